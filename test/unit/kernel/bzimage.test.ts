/**
 * bzImage header and embedded .config. The bzImages here are synthetic: the boot protocol header
 * fields kexp reads (Documentation/arch/x86/boot.rst), a payload compressed the way
 * arch/x86/boot/compressed/Makefile does it (the stream, then the decompressed size as a u32,
 * except gzip whose own trailer carries it), and inside it the IKCFG_ST/IKCFG_ED block of
 * kernel/configs.c. The compressors are the real Debian tools.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { EnvironmentError, InputError } from '../../../src/core/errors.js';
import { run } from '../../../src/core/proc.js';
import { which } from '../../../src/core/toolchain.js';
import { embeddedConfig, parseBzImageHeader, payloadFormat, readBzImageHeader } from '../../../src/kernel/bzimage.js';

const dir = mkdtempSync(join(tmpdir(), 'kexp-bzimage-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG =
  '#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.12.0 Kernel Configuration\n#\nCONFIG_64BIT=y\nCONFIG_IKCONFIG=y\n# CONFIG_KVM is not set\n';

/** A stand-in for vmlinux.bin: code-like bytes, the config block, more bytes. */
function kernelImage(withConfig: boolean): Buffer {
  const filler = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
  const block = withConfig ? [Buffer.from('IKCFG_ST', 'latin1'), gzipSync(CONFIG), Buffer.from('IKCFG_ED', 'latin1')] : [];
  return Buffer.concat([filler(70_000, 7), ...block, filler(50_000, 3)]);
}

function sizeField(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

let counter = 0;
async function compress(tool: string, args: string[], data: Buffer): Promise<Buffer> {
  const out = join(dir, `compressed-${counter++}`);
  await run(tool, args, { input: data, stdoutFile: out });
  return Buffer.concat([readFileSync(out), sizeField(data.length)]);
}

interface Layout {
  payload: Buffer;
  setupSects?: number;
  protocol?: number;
  xloadflags?: number;
  version?: string | null;
  /** Bytes of protected-mode code before the payload (payload_offset). */
  payloadOffset?: number;
  payloadLength?: number;
}

function bzImage(layout: Layout): Buffer {
  const setupSects = layout.setupSects ?? 3;
  const setupBytes = ((setupSects === 0 ? 4 : setupSects) + 1) * 512;
  const payloadOffset = layout.payloadOffset ?? 0x1a3;
  const file = Buffer.alloc(setupBytes + payloadOffset + layout.payload.length + 300, 0xcc);
  file.fill(0, 0, 0x260);
  file[0x1f1] = setupSects;
  file.writeUInt16LE(0xaa55, 0x1fe);
  file.write('HdrS', 0x202, 'latin1');
  file.writeUInt16LE(layout.protocol ?? 0x020f, 0x206);
  file[0x211] = 0x01; // LOADED_HIGH
  file.writeUInt16LE(layout.xloadflags ?? 0x0001, 0x236);
  file.writeUInt32LE(payloadOffset, 0x248);
  file.writeUInt32LE(layout.payloadLength ?? layout.payload.length, 0x24c);
  const version = layout.version === undefined ? '6.12.0-test (dev@box) #1 SMP PREEMPT_DYNAMIC' : layout.version;
  if (version !== null) {
    file.writeUInt16LE(0x300 - 0x200, 0x20e);
    file.write(`${version}\0`, 0x300, 'latin1');
  }
  layout.payload.copy(file, setupBytes + payloadOffset);
  return file;
}

function write(name: string, data: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

describe('readBzImageHeader', () => {
  it('reads setup_sects, the payload place and format, and the kernel version', () => {
    const payload = gzipSync(kernelImage(false));
    const file = write('header', bzImage({ payload, setupSects: 3, payloadOffset: 0x2a3 }));
    const header = readBzImageHeader(file);
    expect(header).toMatchObject({
      file,
      protocolVersion: 0x020f,
      protocol: '2.15',
      setupSects: 3,
      protectedModeStart: 4 * 512,
      payload: { start: 4 * 512 + 0x2a3, length: payload.length, format: 'gzip' },
      kernelVersion: '6.12.0-test (dev@box) #1 SMP PREEMPT_DYNAMIC',
      release: '6.12.0-test',
    });
    expect(header.size).toBe(readFileSync(file).length);
  });

  it('reads setup_sects 0 as 4, as boot loaders do, and a missing version as undefined', () => {
    const header = parseBzImageHeader(bzImage({ payload: gzipSync(Buffer.from('x')), setupSects: 0, version: null }), 'k');
    expect(header.setupSects).toBe(4);
    expect(header.payload.start).toBe(5 * 512 + 0x1a3);
    expect(header.kernelVersion).toBeUndefined();
    expect(header.release).toBeUndefined();
  });

  it('recognizes each compressor by its magic', () => {
    const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
    expect(payloadFormat(hex('1f8b08'))).toBe('gzip');
    expect(payloadFormat(hex('fd377a585a00'))).toBe('xz');
    expect(payloadFormat(hex('28b52ffd'))).toBe('zstd');
    expect(payloadFormat(Buffer.from('BZh9'))).toBe('bzip2');
    expect(payloadFormat(hex('894c5a4f000d0a1a0a'))).toBe('lzo');
    expect(payloadFormat(hex('02214c18'))).toBe('lz4');
    expect(payloadFormat(hex('5d0000800'.padEnd(10, '0')))).toBe('lzma');
    expect(payloadFormat(hex('00112233'))).toBe('unknown');
  });
});

describe('not a bzImage', () => {
  const cases: [string, () => string, RegExp][] = [
    [
      'a vmlinux ELF',
      () => write('vmlinux', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(2000)])),
      /vmlinux is an ELF file \(a vmlinux\?\), not an x86 bzImage/,
    ],
    ['a gzip file', () => write('vmlinux.gz', gzipSync(Buffer.alloc(5000, 1))), /vmlinux\.gz is a gzip-compressed file/],
    ['a text file', () => write('notes.txt', 'hello\n'.repeat(200)), /notes\.txt is a text file, not an x86 bzImage/],
    ['a .config', () => write('dot-config', CONFIG.repeat(20)), /dot-config is a kernel \.config \(text\)/],
    ['a cpio archive', () => write('initramfs.cpio', `070701${'0'.repeat(2000)}`), /initramfs\.cpio is a cpio archive \(an initramfs\?\)/],
    ['an empty file', () => write('empty', ''), /empty is empty, not a bzImage/],
    ['a short binary', () => write('short', Buffer.from([0, 1, 2, 3, 0xff])), /short is a 5-byte file, too short for a boot header/],
    ['a missing file', () => join(dir, 'nothing-here'), /nothing-here: no such file/],
    [
      'a folder',
      () => {
        const d = join(dir, 'folder');
        mkdirSync(d, { recursive: true });
        return d;
      },
      /folder is a folder, not a bzImage/,
    ],
  ];
  for (const [name, make, message] of cases) {
    it(`rejects ${name} with an InputError saying what it is`, () => {
      const file = make();
      expect(() => readBzImageHeader(file)).toThrow(InputError);
      expect(() => readBzImageHeader(file)).toThrow(message);
    });
  }

  it('says what to give instead', () => {
    const elf = write('vmlinux-hint', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(2000)]));
    expect(() => readBzImageHeader(elf)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/arch\/x86\/boot\/bzImage/) }));
    const build = join(dir, 'build-folder');
    mkdirSync(join(build, 'arch/x86/boot'), { recursive: true });
    writeFileSync(join(build, 'arch/x86/boot/bzImage'), '');
    expect(() => readBzImageHeader(build)).toThrow(expect.objectContaining({ hint: `give ${join(build, 'arch/x86/boot/bzImage')}` }));
  });

  it('rejects a 32-bit kernel, a protocol before 2.08 and a truncated payload', () => {
    const payload = gzipSync(Buffer.from('x'));
    expect(() => parseBzImageHeader(bzImage({ payload, xloadflags: 0 }), 'i386')).toThrow(/i386 is a 32-bit x86 kernel/);
    expect(() => parseBzImageHeader(bzImage({ payload, protocol: 0x0206 }), 'old')).toThrow(/old: boot protocol 2\.06 is older than 2\.08/);
    expect(() => parseBzImageHeader(bzImage({ payload, payloadLength: 10_000_000 }), 'cut')).toThrow(
      /cut: the boot header puts the compressed kernel at bytes \d+\.\.\d+ but the file has \d+ bytes/,
    );
  });
});

describe('embeddedConfig', () => {
  it('finds the .config in a gzip payload', async () => {
    const file = write('gzip-ikconfig', bzImage({ payload: gzipSync(kernelImage(true)) }));
    expect(await embeddedConfig(file)).toBe(CONFIG);
  });

  it('returns undefined for a kernel without IKCONFIG', async () => {
    const file = write('gzip-plain', bzImage({ payload: gzipSync(kernelImage(false)) }));
    expect(await embeddedConfig(file)).toBeUndefined();
  });

  it('finds the .config in an xz payload (x86 BCJ filter, as scripts/xz_wrap.sh writes it)', async () => {
    const payload = await compress('xz', ['--check=crc32', '--x86', '--lzma2=dict=1MiB', '-c'], kernelImage(true));
    const file = write('xz-ikconfig', bzImage({ payload }));
    expect(readBzImageHeader(file).payload.format).toBe('xz');
    expect(await embeddedConfig(file)).toBe(CONFIG);
    const plain = write('xz-plain', bzImage({ payload: await compress('xz', ['--check=crc32', '-c'], kernelImage(false)) }));
    expect(await embeddedConfig(plain)).toBeUndefined();
  });

  it('finds the .config in an lzma payload', async () => {
    const file = write('lzma-ikconfig', bzImage({ payload: await compress('xz', ['--format=lzma', '-9', '-c'], kernelImage(true)) }));
    expect(readBzImageHeader(file).payload.format).toBe('lzma');
    expect(await embeddedConfig(file)).toBe(CONFIG);
  });

  // These compressors are not among kexp's host requirements (kexp doctor), so a machine may lack them.
  for (const [format, tool, args] of [
    ['zstd', 'zstd', ['-19', '-c']],
    ['lz4', 'lz4', ['-l', '-9', '-c']],
    ['bzip2', 'bzip2', ['-9', '-c']],
  ] as const) {
    it.skipIf(!which(tool))(`finds the .config in a ${format} payload (needs ${tool} on PATH)`, async () => {
      const file = write(`${format}-ikconfig`, bzImage({ payload: await compress(tool, [...args], kernelImage(true)) }));
      expect(readBzImageHeader(file).payload.format).toBe(format);
      expect(await embeddedConfig(file)).toBe(CONFIG);
    });
  }

  it('names the Debian package when the decompressor is missing', async () => {
    const zstdMagic = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(100), sizeField(1000)]);
    const file = write('zstd-no-tool', bzImage({ payload: zstdMagic }));
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'empty-bin');
    try {
      const error = await embeddedConfig(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EnvironmentError);
      expect(error).toMatchObject({
        message: expect.stringMatching(/zstd-no-tool is zstd-compressed and zstd is not on PATH/),
        hint: expect.stringMatching(/apt-get install zstd/),
      });
    } finally {
      process.env.PATH = path;
    }
  });

  it('calls a damaged payload damaged (InputError), not a kexp failure', async () => {
    const good = await compress('xz', ['--check=crc32', '-c'], kernelImage(true));
    const corrupt = Buffer.from(good);
    corrupt.fill(0x55, 200, 400);
    const file = write('xz-corrupt', bzImage({ payload: corrupt }));
    const error = await embeddedConfig(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/xz-corrupt: the xz-compressed kernel in it does not decompress/);

    const wrongSize = Buffer.concat([gzipSync(kernelImage(true)).subarray(0, -4), sizeField(12)]);
    const sized = write('gzip-wrong-size', bzImage({ payload: wrongSize }));
    await expect(embeddedConfig(sized)).rejects.toThrow(/gzip-wrong-size: the gzip-compressed kernel in it does not decompress/);
  });

  it('rejects a payload in no known format', async () => {
    const file = write('unknown-payload', bzImage({ payload: Buffer.concat([Buffer.from('ABCDEFGH'), sizeField(8)]) }));
    await expect(embeddedConfig(file)).rejects.toThrow(/unknown-payload: the compressed kernel starts with bytes 414243444546, which is none of gzip/);
  });

  it('rejects a damaged config block', async () => {
    const image = Buffer.concat([Buffer.from('IKCFG_ST\x1f\x8b\x08garbage-not-deflate', 'latin1'), Buffer.from('IKCFG_ED')]);
    const file = write('bad-ikcfg', bzImage({ payload: gzipSync(image) }));
    await expect(embeddedConfig(file)).rejects.toThrow(/bad-ikcfg: the embedded \.config .* does not inflate/);
  });

  it('checks the header first: a vmlinux is not searched', async () => {
    const elf = write('vmlinux-embedded', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(2000)]));
    await expect(embeddedConfig(elf)).rejects.toThrow(/an ELF file \(a vmlinux\?\)/);
  });
});
