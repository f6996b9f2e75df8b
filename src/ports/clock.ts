/** Time as the engine sees it, so tests control the 30-minute window instead of waiting for it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
