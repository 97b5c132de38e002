import { Spool } from './spool';
import { SpoolDirectory, removeSpoolFolder } from './spool-directory';
import type { ShipperNotice } from './shipping-stats';
import { LEASE_MS } from './spool-lease';
import { EVENT_ACTION } from '../event-actions.mjs';

/**
 * The spools one process delivers: its own, and those stopped processes left in the spool
 * root, adopted and delivered first. Holds the lease on its folder (spool-lease.ts).
 */
export class OwnedSpools {
  private readonly directory: SpoolDirectory;
  own: Spool;
  /** Spools left by stopped processes, oldest first. */
  private readonly adopted: Spool[] = [];
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    root: string,
    instance: string,
    private readonly segmentBytes: number,
    private readonly notice: ShipperNotice,
  ) {
    this.directory = new SpoolDirectory(root, instance);
    this.directory.claim();
    this.own = Spool.open(this.directory.own, segmentBytes);
  }

  /**
   * Renews the lease (or, when another process took this folder, starts a new one unless a
   * delivery is `busy` with it), then adopts what stopped processes left.
   */
  renew(busy: boolean): void {
    if (!this.directory.renew() && !busy) this.reclaim();
    this.adoptLeftBehind();
  }

  /**
   * Renews the lease and adopts what stopped processes left every `everyMs`, until close();
   * `busy` tells whether a delivery is under way, and `then` runs after each round. A round
   * that fails (a full disk, say) is reported and tried again at the next, well within the
   * lease's time.
   */
  renewEvery(everyMs: number, busy: () => boolean, then: () => void): void {
    this.renewTimer = setInterval(() => {
      try {
        this.renew(busy());
      } catch (error) {
        const reason = (error as Error).message;
        this.notice(
          'warn',
          EVENT_ACTION.logSpoolLeaseFailed,
          `cannot renew the log spool's lease: ${reason}`,
        );
      }
      then();
    }, everyMs);
    this.renewTimer.unref();
  }

  get hasAdopted(): boolean {
    return this.adopted.length > 0;
  }

  isOwn(spool: Spool): boolean {
    return spool === this.own;
  }

  /** The spool to deliver from next; adopted spools delivered in full are removed. */
  next(): Spool {
    for (let done = this.adopted[0]; done?.empty; done = this.adopted[0]) {
      this.adopted.shift();
      done.close();
      removeSpoolFolder(done.dir);
    }
    return this.adopted[0] ?? this.own;
  }

  backlogBytes(): number {
    return this.all().reduce((sum, spool) => sum + spool.backlogBytes, 0);
  }

  backlogLines(): number {
    return this.all().reduce((sum, spool) => sum + spool.backlogLines, 0);
  }

  /** Leaves the folder: removed when `empty`, else released for the next process. */
  close(empty: boolean): void {
    clearInterval(this.renewTimer);
    for (const spool of this.all()) spool.close();
    this.directory.release(empty);
  }

  private all(): Spool[] {
    return [...this.adopted, this.own];
  }

  /**
   * Another process took this one's folder for left behind (this one had not renewed its
   * lease for LEASE_MS) and now delivers it: start a new one. Lines appended to the old spool
   * after the other process opened it may be left there until a later adoption.
   */
  private reclaim(): void {
    this.own.close();
    for (const spool of this.adopted.splice(0)) spool.close();
    this.directory.claim();
    this.own = Spool.open(this.directory.own, this.segmentBytes);
    this.notice(
      'warn',
      EVENT_ACTION.logSpoolTaken,
      `another process took over this one's log spool (it missed its ${LEASE_MS / 1000} s lease); carrying on in a new one`,
    );
  }

  private adoptLeftBehind(): void {
    const known = new Set(this.adopted.map((spool) => spool.dir));
    for (const dir of this.directory.adoptLeftBehind()) {
      if (known.has(dir)) continue;
      const spool = Spool.open(dir, this.segmentBytes);
      this.adopted.push(spool);
      if (!spool.empty) {
        this.notice(
          'info',
          EVENT_ACTION.logSpoolAdopted,
          `delivering ${spool.backlogLines} log lines left by a stopped process`,
        );
      }
    }
  }
}
