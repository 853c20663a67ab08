/**
 * Shortens a text to at most `max` characters (Unicode code points, which is what the hosts count), ending a
 * shortened text with an ellipsis so that a reader knows it was cut. Line breaks and runs of spaces become one
 * space: a status description is one line.
 */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  if (chars.length <= max) return flat;
  if (max <= 1) return chars.slice(0, max).join('');
  return `${chars
    .slice(0, max - 1)
    .join('')
    .trimEnd()}…`;
}

/** "1 test suite", "2 test suites". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "24 h", "90 min", "45 s": a duration for a description. */
export function humanDuration(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${seconds} s`;
}
