/**
 * `npm run build` ends here: the production build (dist/) holds no sandbox, no local-run or demo code, and imports
 * nothing but Node built-ins and the package's production dependencies, every one of which it uses. Exits 1 with
 * every problem listed. The Docker image copies this dist/, so what fails here never reaches it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** Folders of src/ that are development tools and never part of the build. */
const NOT_SHIPPED = ['sandboxes', 'cli'];

/** Every problem with a build in `distDir`, checked against the package.json in `root`. */
export function problemsInBuild(distDir: string, root = ROOT): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const production = new Set(Object.keys(pkg.dependencies));
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const problems: string[] = [];
  const used = new Set<string>();
  const files = readdirSync(distDir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.js'));
  if (files.length === 0) problems.push(`${distDir} holds no JavaScript: nothing was built`);
  for (const file of files) {
    const top = file.split(/[\\/]/)[0]!;
    if (NOT_SHIPPED.includes(top))
      problems.push(`dist/${file}: src/${top} is not part of the production build`);
    const text = readFileSync(join(distDir, file), 'utf8');
    for (const m of text.matchAll(
      /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm,
    )) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith('.')) {
        if (NOT_SHIPPED.some((d) => spec.includes(`/${d}/`))) {
          problems.push(`dist/${file} imports ${spec}, which is not part of the production build`);
        }
        continue;
      }
      if (builtins.has(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      used.add(name);
      if (!production.has(name)) problems.push(`dist/${file} imports ${spec}, not a production dependency`);
    }
  }
  for (const name of production) {
    if (!used.has(name)) problems.push(`${name} is a production dependency that the build never imports`);
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const distDir = resolve(process.argv[2] ?? join(ROOT, 'dist'));
  const problems = problemsInBuild(distDir);
  if (problems.length > 0) {
    console.error(
      `The build in ${relative(process.cwd(), distDir) || '.'} is not fit to ship:\n  - ${problems.join('\n  - ')}`,
    );
    process.exit(1);
  }
  console.log(
    `build checked: ${relative(process.cwd(), distDir) || '.'} holds no sandbox and imports only production dependencies`,
  );
}
