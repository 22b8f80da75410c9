/**
 * The guest image: an initramfs (cpio newc, gzip) with Debian's static busybox, the workloads in
 * images/workloads/*.c compiled with gcc -static, and the agent images/agent/init as /init.
 * Built with the kernel's own usr/gen_init_cpio, cached by the hash of everything in it.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createGzip } from 'node:zlib';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { BuildError, EnvironmentError } from '../core/errors.js';
import { hashJson, sha256 } from '../core/hash.js';
import { capture, run, ProcessError } from '../core/proc.js';
import type { ArtifactStore } from '../store/store.js';
import type { StageContext } from '../store/workspace.js';
import { listKernelNames, loadRecipe } from '../config/recipe.js';
import { listWorkloadNames, workloadDir, workloadIncludeDirs } from '../config/workloads.js';
import { describeLayers, findInRoot } from '../config/layers.js';
import { compilerVersion } from '../core/toolchain.js';
import { fileOfAnyTree } from '../kernel/source.js';
import { busyboxEntries, cpioList, skeleton, type CpioEntry } from './cpio.js';

export const IMAGE_RECIPE_VERSION = 1;
export const BUSYBOX = '/bin/busybox';

export interface ImageOptions {
  /** Carry Debian's perf binary and the shared libraries it needs (for the perf collector). */
  perf?: boolean;
}

export const PERF = '/usr/bin/perf';

/** ldd's output → the libraries a binary loads, by absolute path. Pure. */
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  for (const line of output.split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(0x/.exec(line);
    const path = arrow?.[1] ?? bare?.[1];
    if (path) paths.push(path);
  }
  return [...new Set(paths)];
}

/** The image stage logs nothing of its own: the workspace without the logger. */
export interface ImageContext extends Pick<StageContext, 'root' | 'layout' | 'store' | 'signal'> {
  onStage?: (stage: string) => void;
}

export interface GuestImage {
  key: string;
  initramfs: string;
  dir: string;
  cached: boolean;
  workloads: string[];
  seconds: number;
}

interface WorkloadSource {
  name: string;
  /** images/workloads/<name>.c, then any images/workloads/<name>.*.S (e.g. a nested guest's code). */
  files: { path: string; content: Buffer }[];
}

interface ImageInputs {
  agent: { path: string; content: Buffer };
  workloads: WorkloadSource[];
  /** images/workloads/include/*.h: code the workloads share (compiled with -I there). */
  headers: { path: string; content: Buffer }[];
  busybox: Buffer;
}

/** The workloads the image carries: one lister for the image, the fleet and the option checks. */
export const listWorkloads = listWorkloadNames;

function readInputs(root: string): ImageInputs {
  // The agent is kexp's own unless a layer of the root brings one (a user's folder on top of
  // kexp's always finds the packaged agent).
  const agentPath = findInRoot(root, 'images', 'agent', 'init');
  if (!agentPath) throw new EnvironmentError(`the guest agent images/agent/init is missing (looked in ${describeLayers(root, 'images', 'agent')})`);
  if (!existsSync(BUSYBOX)) throw new EnvironmentError(`${BUSYBOX} is missing`, 'apt-get install busybox-static  (or: kexp doctor --fix)');
  return {
    agent: { path: agentPath, content: readFileSync(agentPath) },
    workloads: listWorkloads(root).map((name) => {
      const dir = workloadDir(root, name)!;
      const extra = readdirSync(dir)
        .filter((f) => f.startsWith(`${name}.`) && f.endsWith('.S'))
        .sort();
      const files = [`${name}.c`, ...extra].map((f) => ({ path: join(dir, f), content: readFileSync(join(dir, f)) }));
      return { name, files };
    }),
    busybox: readFileSync(BUSYBOX),
    headers: listHeaders(root),
  };
}

/** Shared headers of every layer; a layer's header hides a lower one of the same name. */
function listHeaders(root: string): { path: string; content: Buffer }[] {
  const seen = new Set<string>();
  const headers: { path: string; content: Buffer }[] = [];
  for (const dir of workloadIncludeDirs(root)) {
    for (const f of readdirSync(dir)
      .filter((name) => name.endsWith('.h'))
      .sort()) {
      if (seen.has(f)) continue;
      seen.add(f);
      headers.push({ path: join(dir, f), content: readFileSync(join(dir, f)) });
    }
  }
  return headers;
}

/** An image already in the store, by its key (a fleet worker's copy of the run's image). */
export function imageFromStore(store: ArtifactStore, key: string): GuestImage {
  const dir = store.path('images', key);
  const meta = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as { workloads?: { name: string }[] };
  return { key, initramfs: join(dir, 'initramfs.cpio.gz'), dir, cached: true, workloads: (meta.workloads ?? []).map((w) => w.name), seconds: 0 };
}

export async function buildImage(ctx: ImageContext, options: ImageOptions = {}): Promise<GuestImage> {
  const started = Date.now();
  const inputs = readInputs(ctx.root);
  const perfFiles = options.perf ? await perfClosure() : [];
  const compiler = await compilerVersion(ctx.layout);
  const key = hashJson({
    v: IMAGE_RECIPE_VERSION,
    agent: sha256(inputs.agent.content),
    workloads: inputs.workloads.map((w) => [w.name, ...w.files.map((f) => sha256(f.content))]),
    busybox: sha256(inputs.busybox),
    headers: inputs.headers.map((h) => [basename(h.path), sha256(h.content)]),
    compiler,
    ...(perfFiles.length > 0 ? { perf: perfFiles.map((f) => [f, sha256(readFileSync(f))]) } : {}),
  });
  const done = (cached: boolean): GuestImage => ({
    key,
    initramfs: join(ctx.store.path('images', key), 'initramfs.cpio.gz'),
    dir: ctx.store.path('images', key),
    cached,
    workloads: inputs.workloads.map((w) => w.name),
    seconds: (Date.now() - started) / 1000,
  });
  if (ctx.store.has('images', key)) return done(true);
  return ctx.store.lock('images', key, async () => {
    if (ctx.store.has('images', key)) return done(true);
    const genInitCpio = await genInitCpioTool(ctx);
    await ctx.store.put('images', key, async (dir) => {
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      const logFile = join(dir, 'build.log');
      ctx.onStage?.('compiling workloads');
      for (const w of inputs.workloads) {
        try {
          await run(
            'gcc',
            [
              '-static',
              '-O2',
              '-Wall',
              '-Wextra',
              '-pthread',
              ...workloadIncludeDirs(ctx.root).flatMap((dir) => ['-I', dir]),
              '-o',
              join(bin, w.name),
              ...w.files.map((f) => f.path),
            ],
            { logFile, signal: ctx.signal },
          );
        } catch (error) {
          if (error instanceof ProcessError)
            throw new BuildError(
              `workload ${w.files[0]!.path} does not compile:\n${error.tail
                .slice(-12)
                .map((l) => `  | ${l}`)
                .join('\n')}`,
              logFile,
            );
          throw error;
        }
      }
      copyFileSync(inputs.agent.path, join(bin, 'init'));
      const applets = (await capture('busybox', ['--list']))
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean);
      const entries: CpioEntry[] = [
        ...skeleton(),
        { type: 'file', path: '/init', from: join(bin, 'init') },
        ...busyboxEntries(BUSYBOX, applets, new Set(inputs.workloads.map((w) => w.name))),
        ...inputs.workloads.map((w): CpioEntry => ({ type: 'file', path: `/bin/${w.name}`, from: join(bin, w.name) })),
        ...perfEntries(perfFiles),
      ];
      writeFileSync(join(dir, 'files.list'), cpioList(entries));
      ctx.onStage?.('packing initramfs');
      const cpio = join(dir, 'initramfs.cpio');
      await run(genInitCpio, ['-t', '0', join(dir, 'files.list')], { signal: ctx.signal, stdoutFile: cpio });
      await pipeline(createReadStream(cpio), createGzip({ level: 6 }), createWriteStream(join(dir, 'initramfs.cpio.gz')));
      rmSync(cpio);
      writeFileSync(
        join(dir, 'image.json'),
        `${JSON.stringify({ key, compiler, workloads: inputs.workloads.map((w) => ({ name: w.name, files: w.files.map((f) => ({ file: basename(f.path), sha256: sha256(f.content) })) })), agentSha256: sha256(inputs.agent.content), busyboxSha256: sha256(inputs.busybox), builtAt: new Date().toISOString() }, null, 2)}\n`,
      );
    });
    return done(false);
  });
}

/** perf and every shared library it loads (and the loader), at the same paths as on the host. */
async function perfClosure(): Promise<string[]> {
  if (!existsSync(PERF))
    throw new EnvironmentError(`${PERF} is missing: the perf collector needs Debian's perf`, 'apt-get install linux-perf, or leave perf out of the collectors');
  const libs = parseLdd(await capture('ldd', [PERF]));
  return [PERF, ...libs];
}

function perfEntries(files: string[]): CpioEntry[] {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.split('/').slice(1, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(`/${parts.slice(0, i).join('/')}`);
  }
  const known = new Set(skeleton().map((e) => e.path));
  return [
    ...[...dirs]
      .filter((d) => !known.has(d))
      .sort()
      .map((path): CpioEntry => ({ type: 'dir', path })),
    ...files.map((f): CpioEntry => ({ type: 'file', path: f, from: realpathSync(f) })),
  ];
}

/** usr/gen_init_cpio from a kernel source the cache already holds, or from a recipe's tarball. */
export async function genInitCpioTool(ctx: ImageContext): Promise<string> {
  const source = await genInitCpioSource(ctx);
  const key = sha256(source);
  const tool = join(ctx.store.path('tools', key), 'gen_init_cpio');
  if (existsSync(tool)) return tool;
  await ctx.store.put('tools', key, async (dir) => {
    writeFileSync(join(dir, 'gen_init_cpio.c'), source);
    await run('gcc', ['-O2', '-o', join(dir, 'gen_init_cpio'), join(dir, 'gen_init_cpio.c')], { signal: ctx.signal });
  });
  return tool;
}

async function genInitCpioSource(ctx: ImageContext): Promise<Buffer> {
  const inTree = fileOfAnyTree(ctx.layout, 'usr/gen_init_cpio.c');
  if (inTree) return readFileSync(inTree);
  for (const name of listKernelNames(ctx.root)) {
    const recipe = loadRecipe(ctx.root, name);
    if (recipe.source.type !== 'debian-package') continue;
    const tarball = `/usr/src/${recipe.source.package}.tar.xz`;
    if (!existsSync(tarball)) continue;
    ctx.onStage?.('extracting usr/gen_init_cpio.c');
    const chunks: Buffer[] = [];
    const tar = await import('tar');
    const { execa } = await import('execa');
    const xz = execa('xz', ['-dc', tarball], { buffer: false, stdout: 'pipe', cancelSignal: ctx.signal });
    const parser = new tar.Parser({
      filter: (path) => path.endsWith('/usr/gen_init_cpio.c'),
      onReadEntry: (entry) => entry.on('data', (c: Buffer) => chunks.push(c)),
    });
    await Promise.all([pipeline(xz.stdout!, parser), xz.catch(() => undefined)]);
    if (chunks.length > 0) return Buffer.concat(chunks);
  }
  throw new EnvironmentError(
    'no kernel source to take usr/gen_init_cpio.c from',
    'install a kernel source package (kexp doctor --fix) or build a kernel first',
  );
}
