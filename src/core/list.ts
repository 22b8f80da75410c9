/** "a, b,,c" → ["a", "b", "c"]: how every comma-separated flag and filter is read. */
export function splitList(text: string | undefined, separator = ','): string[] {
  return (text ?? '')
    .split(separator)
    .map((s) => s.trim())
    .filter(Boolean);
}
