// The run's story: every line the cores narrate, every [TEST] step and network fault, stamped
// with virtual time in the seed log's format ("11:04:37.796881 [1] becomes Candidate ...").
// Kept in a ring buffer and printed only when something fails (or echoed live with --verbose).

/** Virtual milliseconds since the start of the run as HH:MM:SS.micro. */
export function formatVirtualTime(ms: number): string {
  const micros = Math.round(ms * 1000);
  const totalSeconds = Math.floor(micros / 1_000_000);
  const frac = micros - totalSeconds * 1_000_000;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(frac, 6)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

export class Narrator {
  private readonly times: number[];
  private readonly lines: string[];
  private head = 0;
  private count = 0;
  /** Every line ever added (the ring keeps only the last `capacity`). */
  total = 0;

  constructor(
    private readonly capacity = 4000,
    private readonly echo: ((formatted: string) => void) | null = null,
  ) {
    this.times = new Array<number>(capacity);
    this.lines = new Array<string>(capacity);
  }

  add(time: number, line: string): void {
    this.times[this.head] = time;
    this.lines[this.head] = line;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    this.total++;
    if (this.echo) this.echo(`${formatVirtualTime(time)} ${line}`);
  }

  /** The last `n` lines, oldest first, formatted. */
  tail(n = this.capacity): string[] {
    const k = Math.min(n, this.count);
    const out: string[] = [];
    for (let i = k; i > 0; i--) {
      const at = (this.head - i + this.capacity) % this.capacity;
      out.push(`${formatVirtualTime(this.times[at]!)} ${this.lines[at]!}`);
    }
    return out;
  }
}
