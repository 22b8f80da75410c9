/**
 * The reproducer lines of a build record: commands a person pastes into a shell to rebuild the
 * artifact by hand. Every word comes from data kexp does not control (a cache folder, a variant
 * folder named `$(rm -rf ~)`, a make variable from a recipe), so every word is quoted; a line
 * pasted runs exactly the command shown, never something a name smuggled in. Pure.
 */

/** Words that mean the same quoted or not: no shell syntax, no globbing, no tilde, no comment. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One word for a POSIX shell. Single quotes keep everything literal (`$`, backquotes, `\`, `!`,
 * newlines); a single quote itself ends the quoted part, is written as \' and the quote reopens.
 */
export function shellQuote(word: string): string {
  if (word.length > 0 && PLAIN.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line: the program and its arguments, each quoted. */
export function shellLine(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

/** `NAME=value` assignments before a command; names are checked, values quoted. */
export function shellEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not an environment variable name: ${JSON.stringify(name)}`);
      return `${name}=${shellQuote(value)}`;
    })
    .join(' ');
}

export interface ReproducerInputs {
  src: string;
  /** The patch files, in order. */
  patches: readonly string[];
  /** The resolved .config as stored, and where the build reads it. */
  config: { from: string; to: string };
  env: Record<string, string>;
  makeArgs: readonly string[];
}

/** The commands that rebuild a kernel artifact by hand, one per line. */
export function kernelReproducer(inputs: ReproducerInputs): string[] {
  const src = shellQuote(inputs.src);
  return [
    `cd ${src} && git reset --hard && git clean -fdx`,
    ...inputs.patches.map((p) => shellLine(['git', '-C', inputs.src, 'apply', p])),
    shellLine(['cp', inputs.config.from, inputs.config.to]),
    `${shellEnv(inputs.env)} ${shellLine(['make', ...inputs.makeArgs])}`.trim(),
  ];
}
