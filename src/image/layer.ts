/**
 * What a cell adds to the guest image: the user's overlay (a folder or a tar), the kselftests
 * built from the cell's own kernel tree and variant, and host programs a command names, each
 * dynamic executable with its shared libraries (as perf). They go into a second initramfs archive
 * that the kernel unpacks over the base image (an initrd may be several concatenated archives),
 * so the base image stays one per run while each kernel variant carries its own tests. Layers and
 * the combined initrds are cached by content in the store.
 */
import {
  appendFileSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { InputError } from '../core/errors.js';
import { hashJson, sha256, sha256File } from '../core/hash.js';
import { capture, run } from '../core/proc.js';
import { cpioList, skeleton, type CpioEntry } from './cpio.js';
import { elfKind, scriptInterpreter } from '../core/elf.js';
import { genInitCpioTool, parseLdd, type GuestImage, type ImageContext } from './image.js';

export const LAYER_RECIPE_VERSION = 1;

/** One file of a layer: where the guest sees it, where its content is on the host. */
export interface LayerFile {
  guestPath: string;
  hostPath: string;
  mode: number;
}

export interface LayerLink {
  guestPath: string;
  target: string;
}

export interface LayerContent {
  files: LayerFile[];
  links: LayerLink[];
}

export interface GuestLayer {
  key: string;
  archive: string;
  /** Every path the layer puts into the guest (files, links, folders). */
  paths: string[];
  cached: boolean;
}

/** The directories the guest needs for these paths, parents first, without the skeleton's. Pure. */
export function parentDirs(paths: readonly string[]): string[] {
  const known = new Set(
    skeleton()
      .filter((e) => e.type === 'dir')
      .map((e) => e.path),
  );
  const dirs = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/').slice(1, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(`/${parts.slice(0, i).join('/')}`);
  }
  return [...dirs].filter((d) => !known.has(d)).sort();
}

/** A path the guest may carry: absolute, no white space, no "..", not the agent. Pure. */
export function guestPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'is not absolute';
  if (/\s/.test(path)) return 'has white space (gen_init_cpio cannot carry it)';
  if (path.split('/').includes('..')) return 'has ".."';
  if (path === '/init') return 'is the agent (/init); it cannot be replaced';
  return undefined;
}

/** An overlay as given on the command line or in an experiment: an existing folder or tar, as an absolute path. */
export function checkOverlay(given: string, where = '--overlay'): string {
  const path = resolve(given);
  if (!existsSync(path))
    throw new InputError(
      `${where}: no such file or folder ${path}`,
      'give a folder whose tree is copied into the guest (DIR/usr/bin/x lands at /usr/bin/x), or a tar of one',
    );
  if (!statSync(path).isDirectory() && !/\.(tar|tar\.gz|tgz|tar\.xz|txz)$/.test(path))
    throw new InputError(`${where}: ${path} is neither a folder nor a .tar, .tar.gz, .tgz or .tar.xz`);
  return path;
}

/** The overlay's content: a folder, or a tar (.tar, .tar.gz, .tgz, .tar.xz) unpacked once into the store by its sha256. */
export async function readOverlay(ctx: ImageContext, given: string): Promise<LayerContent> {
  const path = resolve(given);
  if (!existsSync(path))
    throw new InputError(`--overlay: no such file or folder ${path}`, 'give a folder whose tree is copied into the guest, or a tar of one');
  const dir = statSync(path).isDirectory() ? path : await unpackTar(ctx, path);
  return walk(dir, path);
}

async function unpackTar(ctx: ImageContext, file: string): Promise<string> {
  if (!/\.(tar|tar\.gz|tgz|tar\.xz|txz)$/.test(file)) throw new InputError(`--overlay: ${file} is neither a folder nor a .tar, .tar.gz, .tgz or .tar.xz`);
  const key = `overlay-${await sha256File(file)}`;
  const root = join(ctx.store.path('images', key), 'root');
  if (ctx.store.has('images', key)) return root;
  const tar = await import('tar');
  await ctx.store.put('images', key, async (dir) => {
    const into = join(dir, 'root');
    mkdirSync(into);
    try {
      if (/\.(tar\.xz|txz)$/.test(file)) {
        const { execa } = await import('execa');
        const xz = execa('xz', ['-dc', file], { buffer: false, stdout: 'pipe', ...(ctx.signal ? { cancelSignal: ctx.signal } : {}) });
        await Promise.all([pipeline(xz.stdout!, tar.x({ cwd: into, preserveOwner: false })), xz]);
      } else {
        await tar.x({ file, cwd: into, preserveOwner: false });
      }
    } catch (error) {
      throw new InputError(`--overlay: ${file} cannot be unpacked: ${(error as Error).message.split('\n')[0]}`);
    }
  });
  return root;
}

function walk(dir: string, shown: string): LayerContent {
  const files: LayerFile[] = [];
  const links: LayerLink[] = [];
  const visit = (abs: string): void => {
    for (const name of readdirSync(abs).sort()) {
      const host = join(abs, name);
      const guestPath = `/${relative(dir, host).split('\\').join('/')}`;
      const problem = guestPathProblem(guestPath);
      if (problem) throw new InputError(`--overlay ${shown}: ${guestPath} ${problem}`);
      const st = lstatSync(host);
      if (st.isSymbolicLink()) links.push({ guestPath, target: readlinkSync(host) });
      else if (st.isDirectory()) visit(host);
      else if (st.isFile()) files.push({ guestPath, hostPath: host, mode: st.mode & 0o7777 });
    }
  };
  visit(dir);
  return { files, links };
}

/** The guest's search path for a program named without a slash (the agent's PATH). */
export const GUEST_PATH = ['/bin', '/sbin', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'];

export type ProgramLocation =
  | { where: 'image'; guestPath: string }
  | { where: 'host'; hostPath: string; guestPath: string }
  | { where: 'missing'; message: string; hint: string };

/**
 * Where the guest finds a command's program: in the image (base image, overlay, kselftests), else
 * on this host at the same path (carried into the image with its libraries), else missing, with
 * what was searched. Pure: the file systems come in as functions.
 */
export function locateProgram(program: string, inImage: (p: string) => boolean, onHost: (p: string) => boolean, hostPath: string[]): ProgramLocation {
  if (program.includes('/')) {
    if (!program.startsWith('/'))
      return {
        where: 'missing',
        message: `program "${program}": a path must be absolute in the guest`,
        hint: `name it as the guest sees it, e.g. /usr/bin/stress-ng, or by name (searched in ${GUEST_PATH.join(', ')})`,
      };
    if (inImage(program)) return { where: 'image', guestPath: program };
    if (onHost(program)) return { where: 'host', hostPath: program, guestPath: program };
    return {
      where: 'missing',
      message: `program ${program} is not in the guest image and not on this host`,
      hint: 'put it into the image with --overlay DIR (DIR/usr/bin/... lands at /usr/bin/...), or give a program the host has',
    };
  }
  for (const dir of GUEST_PATH) if (inImage(`${dir}/${program}`)) return { where: 'image', guestPath: `${dir}/${program}` };
  for (const dir of hostPath) {
    const p = `${dir}/${program}`;
    if (onHost(p)) return { where: 'host', hostPath: p, guestPath: p };
  }
  return {
    where: 'missing',
    message: `program "${program}" is not in the guest image (searched ${GUEST_PATH.join(', ')}) and not on this host's PATH`,
    hint: 'put it into the image with --overlay DIR, or give its absolute path',
  };
}

/** Every path of the base image, from its files.list. */
export function imagePaths(image: GuestImage): Set<string> {
  const list = join(image.dir, 'files.list');
  const paths = new Set<string>();
  if (!existsSync(list)) return paths;
  for (const line of readFileSync(list, 'utf8').split('\n')) {
    const [type, path] = line.split(' ');
    if (type && path) paths.add(path);
  }
  return paths;
}

/**
 * A dynamic executable's loader and libraries (ldd, on the host), as layer files at the same
 * paths. A library that neither the host nor `provided` (the overlay's own files, by name) has is
 * an input error naming it.
 */
export async function libraryClosure(hostPath: string, shownAs: string, provided: (name: string) => boolean = () => false): Promise<LayerFile[]> {
  const data = readFileSync(hostPath);
  const kind = elfKind(data);
  if (!kind.elf || kind.interpreter === null) return [];
  const out = await capture('ldd', [hostPath]).catch((error: Error) => {
    throw new InputError(
      `${shownAs}: ldd cannot list its libraries: ${error.message.split('\n')[0]}`,
      'carry a static build of it, or its libraries in --overlay',
    );
  });
  const missing = out
    .split('\n')
    .filter((l) => /=>\s*not found/.test(l))
    .map((l) => l.trim().split(/\s+/)[0]!)
    .filter((name) => !provided(name));
  if (missing.length > 0)
    throw new InputError(
      `${shownAs} needs libraries that neither this host nor the overlay has: ${missing.join(', ')}`,
      'install them on the host, or put them into --overlay (e.g. DIR/lib/x86_64-linux-gnu/)',
    );
  const libs = parseLdd(out);
  if (!libs.includes(kind.interpreter) && existsSync(kind.interpreter)) libs.push(kind.interpreter);
  return libs.map((lib) => ({ guestPath: lib, hostPath: realpathSync(lib), mode: 0o755 }));
}

/** What a script needs: its interpreter in the image (or the layer). Undefined when fine. */
export function interpreterProblem(hostPath: string, guestPath: string, has: (p: string) => boolean): string | undefined {
  const interpreter = scriptInterpreter(readFileSync(hostPath).subarray(0, 256));
  if (!interpreter || has(interpreter)) return undefined;
  return `${guestPath} is a script for ${interpreter}, which is not in the guest image`;
}

/** The host's PATH, for programs named without a slash. */
export function hostSearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin').split(delimiter).filter((d) => d.startsWith('/'));
}

/** Files later in the list win (the overlay over the tests, the tests over host programs). Pure. */
export function mergeContent(...parts: LayerContent[]): LayerContent {
  const files = new Map<string, LayerFile>();
  const links = new Map<string, LayerLink>();
  for (const part of parts) {
    for (const f of part.files) {
      links.delete(f.guestPath);
      files.set(f.guestPath, f);
    }
    for (const l of part.links) {
      files.delete(l.guestPath);
      links.set(l.guestPath, l);
    }
  }
  const byPath = <T extends { guestPath: string }>(a: T, b: T): number => (a.guestPath < b.guestPath ? -1 : a.guestPath > b.guestPath ? 1 : 0);
  return { files: [...files.values()].sort(byPath), links: [...links.values()].sort(byPath) };
}

/** The layer archive (gen_init_cpio, gzip), or the store's copy of it. */
export async function buildLayer(ctx: ImageContext, content: LayerContent): Promise<GuestLayer> {
  for (const p of [...content.files.map((f) => f.guestPath), ...content.links.map((l) => l.guestPath)]) {
    const problem = guestPathProblem(p);
    if (problem) throw new InputError(`guest file ${p} ${problem}`);
  }
  const hashes = await Promise.all(content.files.map((f) => sha256File(f.hostPath)));
  const key = `layer-${hashJson({
    v: LAYER_RECIPE_VERSION,
    files: content.files.map((f, i) => [f.guestPath, hashes[i], f.mode]),
    links: content.links.map((l) => [l.guestPath, l.target]),
  })}`;
  const paths = [
    ...parentDirs([...content.files, ...content.links].map((x) => x.guestPath)),
    ...content.files.map((f) => f.guestPath),
    ...content.links.map((l) => l.guestPath),
  ];
  const archive = join(ctx.store.path('images', key), 'layer.cpio.gz');
  if (ctx.store.has('images', key)) return { key, archive, paths, cached: true };
  const tool = await genInitCpioTool(ctx);
  await ctx.store.put('images', key, async (dir) => {
    const entries: CpioEntry[] = [
      ...parentDirs(paths).map((path): CpioEntry => ({ type: 'dir', path })),
      ...content.files.map((f): CpioEntry => ({ type: 'file', path: f.guestPath, from: f.hostPath, mode: f.mode & 0o7777 })),
      ...content.links.map((l): CpioEntry => ({ type: 'slink', path: l.guestPath, target: l.target })),
    ];
    writeFileSync(join(dir, 'files.list'), cpioList(entries));
    const cpio = join(dir, 'layer.cpio');
    await run(tool, ['-t', '0', join(dir, 'files.list')], { ...(ctx.signal ? { signal: ctx.signal } : {}), stdoutFile: cpio });
    await pipeline(createReadStream(cpio), createGzip({ level: 6 }), createWriteStream(join(dir, 'layer.cpio.gz')));
    writeFileSync(
      join(dir, 'layer.json'),
      `${JSON.stringify({ key, files: content.files.map((f, i) => ({ path: f.guestPath, from: f.hostPath, sha256: hashes[i], mode: f.mode.toString(8) })), links: content.links, builtAt: new Date().toISOString() }, null, 2)}\n`,
    );
  });
  return { key, archive, paths, cached: false };
}

/** The base image followed by the layer: one initrd the kernel unpacks in order. */
export async function combineInitrd(ctx: ImageContext, base: GuestImage, layer: GuestLayer): Promise<{ key: string; initramfs: string }> {
  const key = hashJson({ base: base.key, layer: layer.key });
  const initramfs = join(ctx.store.path('images', key), 'initramfs.cpio.gz');
  if (ctx.store.has('images', key)) return { key, initramfs };
  await ctx.store.put('images', key, async (dir) => {
    const out = join(dir, 'initramfs.cpio.gz');
    copyFileSync(base.initramfs, out);
    appendFileSync(out, readFileSync(layer.archive));
    writeFileSync(join(dir, 'image.json'), `${JSON.stringify({ key, base: base.key, layer: layer.key, sha256: sha256(readFileSync(out)) }, null, 2)}\n`);
  });
  return { key, initramfs };
}
