/**
 * A bzImage built elsewhere: its x86 boot protocol header (Documentation/arch/x86/boot.rst) and,
 * when it was built with CONFIG_IKCONFIG=y, the .config inside it. The header decides whether the
 * file can be booted at all; the embedded .config is what the kernel requirements are checked
 * against before kexp spends a boot on it.
 *
 * The .config is found as scripts/extract-ikconfig finds it: decompress the payload to the kernel
 * image, then take the gzip stream between the "IKCFG_ST" and "IKCFG_ED" markers
 * (kernel/configs.c). The header says where the payload is, so nothing is guessed by scanning.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { CancelledError, EnvironmentError, InputError } from '../core/errors.js';
import { ProcessError, run } from '../core/proc.js';
import { which } from '../core/toolchain.js';

const gunzipAsync = promisify(gunzip);

/** How the kernel was compressed (CONFIG_KERNEL_GZIP, _XZ, ...). */
export type PayloadFormat = 'gzip' | 'xz' | 'lzma' | 'bzip2' | 'lzo' | 'lz4' | 'zstd' | 'unknown';

export interface BzImageHeader {
  file: string;
  /** File size in bytes. */
  size: number;
  /** Boot protocol version as the header stores it, e.g. 0x020f. */
  protocolVersion: number;
  /** The same, as boot.rst writes it: "2.15". */
  protocol: string;
  /** Real-mode setup sectors (the stored 0 means 4, as the boot loaders read it). */
  setupSects: number;
  /** Where the protected-mode code starts in the file: (setup_sects + 1) * 512. */
  protectedModeStart: number;
  /** The compressed kernel, as a file offset (payload_offset is relative to protectedModeStart). */
  payload: { start: number; length: number; format: PayloadFormat };
  /** The kernel_version string, e.g. "6.12.38 (builder@host) #1 SMP PREEMPT_DYNAMIC ...". */
  kernelVersion: string | undefined;
  /** Its first word, the release ("6.12.38"), as `uname -r` would print it. */
  release: string | undefined;
}

const HDRS = 0x53726448; // "HdrS" read little-endian
const OFFSET = {
  setupSects: 0x1f1,
  bootFlag: 0x1fe,
  magic: 0x202,
  version: 0x206,
  kernelVersion: 0x20e,
  loadflags: 0x211,
  xloadflags: 0x236,
  payloadOffset: 0x248,
  payloadLength: 0x24c,
} as const;
/** payload_offset and payload_length exist from boot protocol 2.08 (Linux 2.6.26). */
const MIN_PROTOCOL = 0x0208;
/** xloadflags exists from 2.12 (Linux 3.8). */
const XLOADFLAGS_PROTOCOL = 0x020c;
const LOADED_HIGH = 0x01;
const XLF_KERNEL_64 = 0x01;
const HEADER_END = 0x250;

const GIVE = 'give the bzImage a kernel build writes: arch/x86/boot/bzImage in the build folder';

/** Read and check the header; throws InputError saying what the file is instead. */
export function readBzImageHeader(file: string): BzImageHeader {
  return parseBzImageHeader(readKernelFile(file), file);
}

function readKernelFile(file: string): Buffer {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(file).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError(`${file}: no such file`, GIVE);
    throw new InputError(`${file}: cannot be read (${(error as Error).message})`, GIVE);
  }
  if (isDirectory) {
    const inside = join(file, 'arch/x86/boot/bzImage');
    throw new InputError(`${file} is a folder, not a bzImage`, existsSync(inside) ? `give ${inside}` : GIVE);
  }
  try {
    return readFileSync(file);
  } catch (error) {
    throw new InputError(`${file}: cannot be read (${(error as Error).message})`, GIVE);
  }
}

/** The header checks on a file's bytes; pure. `file` only names it in messages. */
export function parseBzImageHeader(data: Buffer, file: string): BzImageHeader {
  if (data.length === 0) throw new InputError(`${file} is empty, not a bzImage`, GIVE);
  if (data.length < HEADER_END || data.readUInt32LE(OFFSET.magic) !== HDRS) {
    const what = describeNonBzImage(data);
    throw new InputError(`${file} is ${what.what}, not an x86 bzImage (no "HdrS" boot header at offset 0x202)`, what.give ?? GIVE);
  }
  const protocolVersion = data.readUInt16LE(OFFSET.version);
  const protocol = `${protocolVersion >> 8}.${String(protocolVersion & 0xff).padStart(2, '0')}`;
  if (protocolVersion < MIN_PROTOCOL) {
    throw new InputError(`${file}: boot protocol ${protocol} is older than 2.08 (Linux 2.6.26); kexp reads the payload fields that 2.08 added`, GIVE);
  }
  if ((data[OFFSET.loadflags]! & LOADED_HIGH) === 0) {
    throw new InputError(`${file} is a zImage (loaded low), not a bzImage`, GIVE);
  }
  if (protocolVersion >= XLOADFLAGS_PROTOCOL && (data.readUInt16LE(OFFSET.xloadflags) & XLF_KERNEL_64) === 0) {
    throw new InputError(
      `${file} is a 32-bit x86 kernel; kexp's guest programs are x86-64`,
      'build an x86-64 kernel (CONFIG_64BIT=y, e.g. make ARCH=x86_64) and give its arch/x86/boot/bzImage',
    );
  }
  const storedSetupSects = data[OFFSET.setupSects]!;
  const setupSects = storedSetupSects === 0 ? 4 : storedSetupSects;
  const protectedModeStart = (setupSects + 1) * 512;
  const start = protectedModeStart + data.readUInt32LE(OFFSET.payloadOffset);
  const length = data.readUInt32LE(OFFSET.payloadLength);
  if (length === 0 || start + length > data.length) {
    throw new InputError(
      `${file}: the boot header puts the compressed kernel at bytes ${start}..${start + length} but the file has ${data.length} bytes (truncated or damaged)`,
      GIVE,
    );
  }
  const kernelVersion = readKernelVersion(data, protectedModeStart);
  return {
    file,
    size: data.length,
    protocolVersion,
    protocol,
    setupSects,
    protectedModeStart,
    payload: { start, length, format: payloadFormat(data.subarray(start, start + length)) },
    kernelVersion,
    release: kernelVersion?.split(/\s/)[0] || undefined,
  };
}

/** kernel_version points 0x200 bytes before a NUL-terminated string inside the setup code. */
function readKernelVersion(data: Buffer, setupEnd: number): string | undefined {
  const pointer = data.readUInt16LE(OFFSET.kernelVersion);
  if (pointer === 0) return undefined;
  const at = pointer + 0x200;
  if (at >= setupEnd || at >= data.length) return undefined;
  const end = data.indexOf(0, at);
  const raw = data.subarray(at, end < 0 || end > setupEnd ? setupEnd : end).toString('latin1');
  return /^[\x20-\x7e]+$/.test(raw) ? raw : undefined;
}

const MAGIC: { format: Exclude<PayloadFormat, 'unknown'>; bytes: number[] }[] = [
  { format: 'gzip', bytes: [0x1f, 0x8b] },
  { format: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { format: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { format: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
  { format: 'lzo', bytes: [0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a] },
  // lz4 -l writes the legacy frame; the current frame format is accepted too.
  { format: 'lz4', bytes: [0x02, 0x21, 0x4c, 0x18] },
  { format: 'lz4', bytes: [0x04, 0x22, 0x4d, 0x18] },
  // lzma -9 (the .lzma "alone" format): properties byte 0x5d, then the dictionary size.
  { format: 'lzma', bytes: [0x5d, 0x00, 0x00] },
];

export function payloadFormat(bytes: Buffer): PayloadFormat {
  for (const { format, bytes: magic } of MAGIC) {
    if (bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b)) return format;
  }
  return 'unknown';
}

/** Say what a file that is not a bzImage is instead, and what to give instead. */
function describeNonBzImage(data: Buffer): { what: string; give?: string } {
  if (data.length >= 4 && data.readUInt32BE(0) === 0x7f454c46) {
    return { what: 'an ELF file (a vmlinux?)', give: 'give arch/x86/boot/bzImage from the same build, not vmlinux' };
  }
  if (data.length >= 0x40 && data.readUInt32LE(0x38) === 0x644d5241) {
    return { what: 'an arm64 kernel Image', give: 'kexp boots x86-64 kernels: give an x86-64 arch/x86/boot/bzImage' };
  }
  const compressed = payloadFormat(data);
  if (compressed !== 'unknown') {
    return { what: `a ${compressed}-compressed file (a compressed vmlinux or an initramfs?)`, give: GIVE };
  }
  const head = data.subarray(0, 512).toString('latin1');
  if (/^0707(01|02|07)/.test(head)) return { what: 'a cpio archive (an initramfs?)', give: GIVE };
  if (head.startsWith('MZ')) return { what: 'a PE/EFI executable without a Linux boot header', give: GIVE };
  if (/^[\t\n\r\x20-\x7e]*$/.test(head)) {
    if (/^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set|# Automatically generated file)/m.test(head)) {
      return { what: 'a kernel .config (text)', give: 'give the .config with --config and the kernel with --bzimage arch/x86/boot/bzImage' };
    }
    return { what: 'a text file' };
  }
  if (data.length < HEADER_END) return { what: `a ${data.length}-byte file, too short for a boot header` };
  return { what: 'a file of an unknown kind' };
}

export interface EmbeddedConfigOptions {
  signal?: AbortSignal;
  /** The decompressor's command line and messages go here. */
  logFile?: string;
}

/** Which program decompresses which payload, and the Debian package that has it. */
const DECOMPRESSORS: Record<Exclude<PayloadFormat, 'gzip' | 'unknown'>, { command: string; args: string[]; debianPackage: string }> = {
  xz: { command: 'xz', args: ['-dc'], debianPackage: 'xz-utils' },
  lzma: { command: 'xz', args: ['--format=lzma', '-dc'], debianPackage: 'xz-utils' },
  bzip2: { command: 'bzip2', args: ['-dc'], debianPackage: 'bzip2' },
  lzo: { command: 'lzop', args: ['-dc'], debianPackage: 'lzop' },
  lz4: { command: 'lz4', args: ['-dc'], debianPackage: 'lz4' },
  zstd: { command: 'zstd', args: ['-dc'], debianPackage: 'zstd' },
};

const CONFIG_START = Buffer.from('IKCFG_ST\x1f\x8b\x08', 'latin1');
const CONFIG_END = Buffer.from('IKCFG_ED', 'latin1');

/**
 * The kernel's .config when it was built with CONFIG_IKCONFIG=y; undefined when it carries none
 * (IKCONFIG off, or =m: then it lives in configs.ko, which kexp's guest never sees).
 */
export async function embeddedConfig(file: string, options: EmbeddedConfigOptions = {}): Promise<string | undefined> {
  const data = readKernelFile(file);
  const header = parseBzImageHeader(data, file);
  const image = await decompressPayload(data, header, options);
  return configFromImage(image, file);
}

/** Find and inflate the IKCFG_ST...IKCFG_ED block of a decompressed kernel image. */
export async function configFromImage(image: Buffer, file: string): Promise<string | undefined> {
  const start = image.indexOf(CONFIG_START);
  if (start < 0) return undefined;
  const gzipStart = start + 8;
  const end = image.indexOf(CONFIG_END, gzipStart);
  const compressed = image.subarray(gzipStart, end < 0 ? image.length : end);
  try {
    return (await gunzipAsync(compressed)).toString('utf8');
  } catch (error) {
    throw new InputError(
      `${file}: the embedded .config (IKCFG_ST at byte ${start} of the decompressed kernel) does not inflate: ${(error as Error).message}`,
      'give the .config the kernel was built with (--config)',
    );
  }
}

async function decompressPayload(data: Buffer, header: BzImageHeader, options: EmbeddedConfigOptions): Promise<Buffer> {
  const { file, payload } = header;
  const bytes = data.subarray(payload.start, payload.start + payload.length);
  // The last 4 bytes are the decompressed size (gzip's ISIZE, or the size_append of the other
  // formats: arch/x86/boot/compressed/Makefile); the tools want the stream without the latter.
  const expectedSize = bytes.readUInt32LE(bytes.length - 4);
  if (options.signal?.aborted) throw new CancelledError();
  let image: Buffer;
  if (payload.format === 'unknown') {
    const magic = bytes.subarray(0, 6).toString('hex');
    throw new InputError(
      `${file}: the compressed kernel starts with bytes ${magic}, which is none of gzip, xz, lzma, bzip2, lzo, lz4, zstd`,
      'give the .config the kernel was built with (--config)',
    );
  } else if (payload.format === 'gzip') {
    try {
      image = await gunzipAsync(bytes);
    } catch (error) {
      throw damaged(file, 'gzip', (error as Error).message);
    }
  } else {
    image = await runDecompressor(payload.format, bytes.subarray(0, bytes.length - 4), file, options);
  }
  if (options.signal?.aborted) throw new CancelledError();
  if (image.length !== expectedSize) {
    throw damaged(file, payload.format, `it decompressed to ${image.length} bytes where its size field says ${expectedSize}`);
  }
  return image;
}

async function runDecompressor(format: keyof typeof DECOMPRESSORS, stream: Buffer, file: string, options: EmbeddedConfigOptions): Promise<Buffer> {
  const tool = DECOMPRESSORS[format];
  const path = which(tool.command);
  if (!path) {
    throw new EnvironmentError(
      `${file} is ${format}-compressed and ${tool.command} is not on PATH`,
      `apt-get install ${tool.debianPackage}  (or give the kernel's .config with --config)`,
    );
  }
  const scratch = mkdtempSync(join(tmpdir(), 'kexp-bzimage-'));
  try {
    const output = join(scratch, 'vmlinux.bin');
    try {
      await run(path, tool.args, { input: stream, stdoutFile: output, signal: options.signal, logFile: options.logFile, tailLines: 5 });
    } catch (error) {
      if (error instanceof ProcessError && error.processExitCode !== undefined)
        throw damaged(file, format, error.tail.join('; ') || `${tool.command} exited ${error.processExitCode}`);
      throw error;
    }
    return readFileSync(output);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function damaged(file: string, format: string, why: string): InputError {
  return new InputError(
    `${file}: the ${format}-compressed kernel in it does not decompress (${why}); the file is damaged or truncated`,
    'give the .config the kernel was built with (--config), or copy the bzImage again',
  );
}
