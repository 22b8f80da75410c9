/**
 * Just enough ELF to know whether a program needs a loader and shared libraries: the PT_INTERP
 * segment of a 64-bit little-endian executable. Pure.
 */

export type ElfKind = { elf: false } | { elf: true; interpreter: string | null };

const PT_INTERP = 3;

export function elfKind(data: Buffer): ElfKind {
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) return { elf: false };
  const is64 = data[4] === 2;
  const little = data[5] === 1;
  if (!is64 || !little) return { elf: true, interpreter: null };
  const phoff = Number(data.readBigUInt64LE(0x20));
  const phentsize = data.readUInt16LE(0x36);
  const phnum = data.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > data.length) break;
    if (data.readUInt32LE(at) !== PT_INTERP) continue;
    const offset = Number(data.readBigUInt64LE(at + 8));
    const size = Number(data.readBigUInt64LE(at + 32));
    if (offset + size > data.length) return { elf: true, interpreter: null };
    return {
      elf: true,
      interpreter: data
        .subarray(offset, offset + size)
        .toString('latin1')
        .replace(/\0.*$/s, ''),
    };
  }
  return { elf: true, interpreter: null };
}

/** "#!/bin/sh -e" → "/bin/sh"; undefined when the file is no script. */
export function scriptInterpreter(data: Buffer): string | undefined {
  if (data.length < 3 || data[0] !== 0x23 || data[1] !== 0x21) return undefined;
  const line = data.subarray(2, Math.min(data.length, 256)).toString('latin1').split('\n')[0]!.trim();
  const program = line.split(/\s+/)[0];
  return program || undefined;
}
