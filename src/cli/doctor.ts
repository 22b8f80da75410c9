import type { Command } from 'commander';
import { checkHost, installPackages } from '../doctor/probe.js';
import { formatReport, missingPackages, type CheckResult } from '../doctor/checks.js';
import { action, type Registrar } from './action.js';
import type { DoctorJson } from './json-output.js';

/** What kexp doctor --json prints (schemas/doctor.v1.schema.json): `missing` are the packages that fail the host. */
export function doctorJson(results: CheckResult[], missing: string[]): DoctorJson {
  return {
    ok: missing.length === 0,
    missing,
    checks: results.map((r) => ({ name: r.check.name, ok: r.ok, detail: r.detail, package: r.check.debianPackage })),
  };
}

export const registerDoctor: Registrar = (program: Command) => {
  program
    .command('doctor')
    .description('check every host prerequisite and say how to install what is missing')
    .option('--fix', 'install the missing Debian packages (as root: apt-get update && apt-get install)')
    .option('--json', 'print the checks as JSON on stdout (schemas/doctor.v1.schema.json)')
    .action(
      action('doctor', async (ctx, options: { fix?: boolean }) => {
        let results = checkHost(ctx.root);
        let missing = missingPackages(results);
        const toInstall = missingPackages(results, { optional: true });
        if (options.fix && toInstall.length > 0) {
          ctx.err(`installing: ${toInstall.join(' ')}`);
          await installPackages(toInstall, (line) => ctx.logger.info({ apt: line }));
          results = checkHost(ctx.root);
          missing = missingPackages(results);
        }
        if (ctx.json) {
          ctx.out(JSON.stringify(doctorJson(results, missing), null, 2));
        } else {
          ctx.out(formatReport(results));
        }
        return missing.length === 0 ? 0 : 3;
      }),
    );
};
