/**
 * The objects kexp build, boot, image and doctor print with --json, as zod schemas: the code that
 * prints each one is typed by its schema, `kexp schemas` writes schemas/<name>.v1.schema.json from
 * it, and tests parse the real output with it. A field is never removed or changed within a
 * version; a change that would break a reader gets a new version.
 */
import { z } from 'zod';
import type { SampleRecord, Figure, ProgramRun, SampleTests, Fit } from '../records/index.js';
import { statusSchema } from '../report/render/json.js';

const keySchema = z.string().regex(/^[0-9a-f]{64}$/);

export const buildJsonSchema = z.strictObject({
  kernel: z.string().describe('kernel recipe name (kernels/<name>.json)'),
  variant: z.string().describe('variant name (patches/<variant>/)'),
  key: keySchema.describe('artifact key: hash of source, patch diffs, resolved .config, compiler, make variables'),
  bzImage: z.string().describe('absolute path of the bzImage in the store'),
  cached: z.boolean().describe('true when the artifact came from the store without building'),
  seconds: z.number().describe('wall time kexp spent on this build request'),
});

export const imageJsonSchema = z.strictObject({
  key: keySchema,
  initramfs: z.string().describe('absolute path of initramfs.cpio.gz in the store'),
  cached: z.boolean(),
  workloads: z.array(z.string()),
  seconds: z.number(),
});

export const doctorJsonSchema = z.strictObject({
  ok: z.boolean(),
  missing: z.array(z.string()).describe('Debian packages to install'),
  checks: z.array(
    z.strictObject({
      name: z.string(),
      ok: z.boolean(),
      detail: z.string(),
      package: z.string(),
    }),
  ),
});

const countSourceSchema = z.enum(['ftrace', 'kprobe', 'perf', 'tracepoint']);

const programRunSchema = z.strictObject({
  kind: z.enum(['command', 'kselftest']),
  program: z.string().describe('the program as the guest ran it'),
  argv: z.array(z.string()).describe('its arguments, {n} replaced'),
  exit: z.number().int(),
  tail: z.array(z.string()).describe("the last lines it wrote: stdout's, then stderr's"),
  stdoutBytes: z.number().int(),
  stderrBytes: z.number().int(),
  outputFile: z.string().optional().describe('whole output (as far as the guest kept it), beside console.log'),
});

const testStatusSchema = z.enum(['pass', 'fail', 'skip', 'xfail', 'error']);

const sampleTestsSchema = z.strictObject({
  results: z.array(
    z.strictObject({
      number: z.number().int().describe("the test's number in the program's output (1-based)"),
      name: z.string(),
      status: testStatusSchema,
      reason: z.string().optional(),
    }),
  ),
  totals: z.strictObject({ pass: z.number().int(), fail: z.number().int(), skip: z.number().int(), xfail: z.number().int(), error: z.number().int() }),
  problems: z.array(z.string()),
});

// The workload's own report: these fields are common to every workload; each adds its own
// (ret, errno, faults, verified, ...), which are described by the workload, not here.
const workloadResultSchema = z.looseObject({
  workload: z.string().optional(),
  pages: z.number().optional(),
  ok: z.boolean(),
  skipped: z.boolean().optional().describe('the workload could not run here (e.g. no nested KVM): neither a pass nor a failure'),
  error: z.string().nullable().optional(),
});

const sampleSchema = z.strictObject({
  workload: z.string(),
  args: z.array(z.string()),
  pages: z.number().int().describe("pages; a program's pages of its size ({n}M: n x 256), its own n, or 0 when it has no size"),
  rep: z.number().int(),
  status: statusSchema,
  reason: z.string().optional(),
  counts: z
    .partialRecord(countSourceSchema, z.record(z.string(), z.number().int().nonnegative()))
    .describe("collector -> function -> calls in the sample's window; an untraceable function is absent, never 0"),
  result: workloadResultSchema.nullable().describe("the workload's own JSON report (ret, errno, faults, verified, ok, error, ...)"),
  notes: z.array(z.string()).optional().describe('what a collector could not count (perf\'s "<not supported>", ...): said, not fatal'),
  program: programRunSchema.optional().describe('a program run as the workload (-- CMD, --kselftest)'),
  tests: sampleTestsSchema.optional().describe("a program's per-test results (its KTAP/TAP lines, or the program as one test)"),
  unit: z.enum(['page', 'n', 'run']).optional().describe("a program's sample: what pages counts (n: the program's own unit; run: no size)"),
  size: z.number().int().optional().describe("a program's value of {n}"),
});

const fitSchema = z.strictObject({
  perPage: z.number(),
  fixed: z.number(),
  residual: z.number().describe('root mean square of (observed - fitted) over the points'),
  points: z.number().int(),
  sizes: z.number().int(),
  flags: z.array(z.string()),
});

const figureSchema = z.strictObject({
  workload: z.string().describe('workload with its options, e.g. "uffd-populate --write"'),
  function: z.string(),
  status: statusSchema,
  reason: z.string().optional(),
  per_page: z.number().nullable().describe('slope of calls = fixed + per_page x pages; null unless status is ok'),
  fixed: z.number().nullable(),
  residual: z.number().nullable().describe("RMS of the fit's residuals; non-zero is flagged"),
  collectors: z
    .partialRecord(countSourceSchema, z.union([fitSchema, z.strictObject({ error: z.string() })]))
    .describe('collector -> its own fit (or why it could not fit); untraceable functions are absent, with a flag'),
  flags: z.array(z.string()).describe('non-integral slope, residual, collectors disagreeing, untraceable in a collector'),
  samples: z.number().int(),
  // "page" is in the measure stage's type, but a figure per page leaves unit out: never printed.
  unit: z
    .enum(['page', 'n', 'run'])
    .optional()
    .describe('a program\'s figure: per unit of its own {n} (n), or per run (run, see per_run); absent: per page (never "page")'),
  per_run: z
    .strictObject({ mean: z.number(), min: z.number(), max: z.number(), runs: z.number().int() })
    .optional()
    .describe('unit run: mean calls per run, min, max, runs'),
});

export const bootJsonSchema = z.strictObject({
  kernel: z.string(),
  variant: z.string(),
  status: z.enum(['ok', 'crashed', 'hung', 'failed']).describe('how the VM run ended; per-sample statuses are in samples'),
  reason: z.string().nullable().describe("why the run was not ok (the panic line, the watchdog, QEMU's error)"),
  excerpt: z.array(z.string()).nullable().describe('console lines around what ended the run'),
  accel: z.enum(['kvm', 'tcg']).describe('accelerator actually used'),
  accelReason: z.string().describe('why that accelerator (asked, or what the KVM probe found)'),
  kernelKey: z.string(),
  imageKey: z.string(),
  seconds: z.number().describe('wall time of the VM run'),
  guestKernel: z.string().nullable().describe('uname -r in the guest'),
  traceable: z.record(z.string(), z.record(z.string(), z.boolean())).nullable().describe('collector -> function -> whether it can be traced in this kernel'),
  warnings: z.array(z.strictObject({ title: z.string(), excerpt: z.array(z.string()) })).describe('kernel WARNINGs seen on the console: attached, not fatal'),
  agentErrors: z.array(z.string()),
  notes: z.array(z.string()).describe('said, not failed: collectors that were unavailable, host programs carried into the image, ...'),
  kselftests: z
    .array(
      z.strictObject({
        label: z.string().describe('TARGET:TEST as given'),
        dir: z.string().describe('its folder under tools/testing/selftests'),
        program: z.string(),
        key: z.string().describe('store key of the built program'),
        cached: z.boolean(),
        seconds: z.number().describe("this program's build (make only), 0 for a store hit"),
      }),
    )
    .optional()
    .describe('present when the boot carried programs (kselftests, -- CMD, --overlay): the kselftests built (or taken from the store) for this kernel variant'),
  layerKey: z
    .string()
    .nullable()
    .optional()
    .describe('present with kselftests: the image layer (overlay, kselftests, host programs) booted over the base image, null when none was needed'),
  samples: z.array(sampleSchema),
  figures: z.array(figureSchema),
  consoleLog: z.string(),
  resultLog: z.string(),
});

export type BuildJson = z.infer<typeof buildJsonSchema>;
export type ImageJson = z.infer<typeof imageJsonSchema>;
export type DoctorJson = z.infer<typeof doctorJsonSchema>;
export type BootJson = z.infer<typeof bootJsonSchema>;

/*
 * The deep parts of boot's JSON are the measure stage's own types, passed through as they are, so
 * the printed object is checked against the schema by assignment (boot.ts), and these keep every
 * field of those types in the schema: a field added there and not here fails to compile.
 * SampleRecord's explain and hist are left out: only kexp explain's cells have them, never boot.
 */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : { onlyInType: Exclude<keyof A, keyof B>; onlyInSchema: Exclude<keyof B, keyof A> };
const keysCovered: [
  SameKeys<Omit<SampleRecord, 'explain' | 'hist'>, BootJson['samples'][number]>,
  SameKeys<Figure, BootJson['figures'][number]>,
  SameKeys<ProgramRun, NonNullable<BootJson['samples'][number]['program']>>,
  SameKeys<SampleTests, NonNullable<BootJson['samples'][number]['tests']>>,
  SameKeys<Fit, z.infer<typeof fitSchema>>,
] = [true, true, true, true, true];
void keysCovered;

/** The JSON Schema files (schemas/<name>) of these outputs. */
export function cliJsonSchemas(): Record<string, unknown> {
  return {
    'build.v1.schema.json': {
      $id: 'kexp/build.v1.schema.json',
      title: 'kexp build --json: one object per line, one line per build',
      ...z.toJSONSchema(buildJsonSchema),
    },
    'boot.v1.schema.json': { $id: 'kexp/boot.v1.schema.json', title: 'kexp boot --json: one object', ...z.toJSONSchema(bootJsonSchema) },
    'image.v1.schema.json': { $id: 'kexp/image.v1.schema.json', title: 'kexp image --json', ...z.toJSONSchema(imageJsonSchema) },
    'doctor.v1.schema.json': { $id: 'kexp/doctor.v1.schema.json', title: 'kexp doctor --json', ...z.toJSONSchema(doctorJsonSchema) },
  };
}
