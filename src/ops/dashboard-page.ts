/**
 * The dashboard's pages, rendered on the server: the overview (live conversations, outcomes as charts) and one
 * conversation's transcript. No script runs in the page; it refreshes itself every 30 s with a meta refresh.
 * Everything from the store goes through the escaping `html` template.
 */
import type { ConversationRecord } from '../ports/conversation-store.js';
import type { DashboardData, LiveRow } from './dashboard-report.js';
import { html, type SafeHtml } from './safe-html.js';
import { CHART_COLOURS, horizontalBarChart, stackedColumnChart } from './svg-charts.js';

export const DASHBOARD_CSS_PATH = '/dashboard/assets/dashboard.css';
const REFRESH_SECONDS = 30;

function layout(title: string, body: SafeHtml, options: { refresh?: boolean } = {}): string {
  return `<!doctype html>\n${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        ${options.refresh ? html`<meta http-equiv="refresh" content="${REFRESH_SECONDS}" />` : ''}
        <title>${title}</title>
        <link rel="stylesheet" href="${DASHBOARD_CSS_PATH}" />
      </head>
      <body>
        ${body}
      </body>
    </html>`.value
  }`;
}

export function percent(rate: number | null): string {
  return rate === null ? '—' : `${Math.round(rate * 100)}%`;
}

export function oneDecimal(value: number | null): string {
  return value === null ? '—' : String(Math.round(value * 10) / 10);
}

export function timeLeft(secondsLeft: number | null): string {
  if (secondsLeft === null) return '—';
  if (secondsLeft <= 0) return 'overdue';
  const minutes = Math.floor(secondsLeft / 60);
  const seconds = secondsLeft % 60;
  return minutes > 0 ? `${minutes} min ${String(seconds).padStart(2, '0')} s` : `${seconds} s`;
}

function kpi(id: string, label: string, value: string): SafeHtml {
  return html`<div class="kpi" data-kpi="${id}">
    <div class="value">${value}</div>
    <div class="label">${label}</div>
  </div>`;
}

function liveTable(rows: LiveRow[]): SafeHtml {
  if (rows.length === 0) return html`<p class="empty" data-testid="no-live">No live conversations.</p>`;
  return html`<table data-testid="live">
    <thead>
      <tr>
        <th>Ticket</th>
        <th>User</th>
        <th>State</th>
        <th>Round</th>
        <th>Time left</th>
        <th>Provider</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr data-ticket="${r.ticketId}">
            <td><a href="/dashboard/tickets/${r.ticketId}">#${r.ticketNumber}</a> ${r.title}</td>
            <td>${r.user ?? '—'}</td>
            <td><span class="state state-${r.state}">${r.state.replace(/_/g, ' ')}</span></td>
            <td class="num" data-col="round">${r.rounds}/${r.maxRounds}</td>
            <td class="num${r.secondsLeft !== null && r.secondsLeft <= 0 ? ' overdue' : ''}">
              ${timeLeft(r.secondsLeft)}
            </td>
            <td>${r.provider ?? '—'}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function renderDashboardPage(data: DashboardData): string {
  const r = data.report;
  const shortDay = (day: string) => day.slice(5);
  const body = html`<header>
      <h1>TicketZero</h1>
      <span class="meta"
        >Updated ${data.generatedAt.slice(0, 19).replace('T', ' ')} UTC · refreshes every ${REFRESH_SECONDS}
        s</span
      >
    </header>
    <main>
      <h2>Live conversations (${data.live.length})</h2>
      ${liveTable(data.live)}
      <h2>Outcomes, last ${r.days} days</h2>
      <div class="kpis">
        ${kpi('ended', 'Conversations ended', String(r.ended))}
        ${kpi('resolution-rate', 'Resolution rate', percent(r.resolutionRate))}
        ${kpi('median-rounds', 'Median rounds to resolution', oneDecimal(r.medianRoundsToResolution))}
        ${kpi('median-minutes', 'Median minutes to resolution', oneDecimal(r.medianMinutesToResolution))}
        ${kpi('minutes-saved', `Technician minutes saved (${r.minutesSavedPerTicket} × resolved)`, String(r.minutesSaved))}
        ${kpi('declined', 'Tickets not taken', String(r.declined))}
      </div>
      <h2>Charts</h2>
      <div class="charts">
        ${stackedColumnChart({
          id: 'daily-outcomes',
          title: 'Outcomes per day and resolution rate',
          width: 1020,
          labels: r.daily.map((d) => shortDay(d.day)),
          series: [
            { name: 'Resolved', colour: CHART_COLOURS.resolved, values: r.daily.map((d) => d.resolved) },
            { name: 'Escalated', colour: CHART_COLOURS.escalated, values: r.daily.map((d) => d.escalated) },
            { name: 'Timed out', colour: CHART_COLOURS.timedOut, values: r.daily.map((d) => d.timedOut) },
            { name: 'Ended in Atera', colour: CHART_COLOURS.other, values: r.daily.map((d) => d.other) },
          ],
          line: {
            name: 'Resolution rate',
            colour: CHART_COLOURS.rate,
            values: r.daily.map((d) => d.resolutionRate),
          },
        })}
        ${horizontalBarChart({
          id: 'escalation-reasons',
          title: 'Escalation reasons',
          items: r.escalationReasons.map((c) => ({ label: c.label.replace(/_/g, ' '), value: c.count })),
          colour: CHART_COLOURS.escalated,
          emptyText: 'No escalations in this period.',
        })}
        ${horizontalBarChart({
          id: 'categories',
          title: 'Top issue categories',
          items: r.categories.map((c) => ({ label: c.label.replace(/_/g, ' '), value: c.count })),
        })}
        ${horizontalBarChart({
          id: 'provider-share',
          title: 'Answers by AI provider',
          items: r.providerShare.map((c) => ({ label: c.label, value: c.count })),
          colour: CHART_COLOURS.rate,
        })}
        ${horizontalBarChart({
          id: 'provider-failure-rate',
          title: 'Provider failure rate (since start)',
          items: r.providerFailureRates.map((p) => ({
            label: p.provider,
            value: p.rate === null ? 0 : Math.round(p.rate * 1000) / 10,
            display: p.rate === null ? 'no calls' : `${percent(p.rate)} of ${p.calls}`,
          })),
          max: 100,
          colour: CHART_COLOURS.failure,
          emptyText: 'No provider statistics yet.',
        })}
      </div>
    </main>`;
  return layout('TicketZero dashboard', body, { refresh: true });
}

export function renderTranscriptPage(record: ConversationRecord, maxRounds: number): string {
  const body = html`<header>
      <h1>TicketZero</h1>
      <a href="/dashboard">← All conversations</a>
    </header>
    <main>
      <h2>Ticket #${record.ticket.number}: ${record.ticket.title}</h2>
      <section class="card">
        <dl class="facts">
          <dt>User</dt>
          <dd>${record.user?.displayName ?? record.ticket.endUser.email ?? '—'}</dd>
          <dt>Customer</dt>
          <dd>${record.ticket.customer.name}</dd>
          <dt>State</dt>
          <dd data-testid="state">${record.state.replace(/_/g, ' ')}</dd>
          <dt>Round</dt>
          <dd>${record.rounds}/${maxRounds}</dd>
          <dt>Category</dt>
          <dd>${record.category ?? '—'}</dd>
          <dt>Provider</dt>
          <dd>${record.lastProvider ?? '—'}</dd>
          ${
            record.outcome
              ? html`<dt>Outcome</dt>
                  <dd>
                    ${record.outcome.kind.replace(/_/g, ' ')} (${record.outcome.reason.replace(/_/g, ' ')})
                  </dd>`
              : ''
          }
          ${
            record.takenOverBy
              ? html`<dt>Taken over by</dt>
                  <dd>${record.takenOverBy.name}</dd>`
              : ''
          }
        </dl>
      </section>
      <h2>Transcript (${record.turns.length} turns)</h2>
      ${record.turns.length === 0 ? html`<p class="empty">No turns yet.</p>` : ''}
      ${record.turns.map(
        (t) =>
          html`<div class="turn turn-${t.role}" data-seq="${t.seq}">
            <div class="who">
              ${t.role === 'technician' ? (t.authorName ?? 'technician') : t.role}${t.provider ? ` · ${t.provider}` : ''}
              · ${t.at.slice(0, 19).replace('T', ' ')} UTC
            </div>
            <div class="text">${t.text}</div>
          </div>`,
      )}
    </main>`;
  return layout(`Ticket #${record.ticket.number} — TicketZero`, body);
}

export function renderMessagePage(title: string, message: string): string {
  return layout(
    `${title} — TicketZero`,
    html`<header><h1>TicketZero</h1></header>
      <main>
        <h2>${title}</h2>
        <p>${message}</p>
      </main>`,
  );
}
