/** Cancel-and-reschedule: many calls within `delayMs` run `action` once, after the last. Pure. */

export interface Timers {
    setTimeout(callback: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
}

export interface Debounced {
    (): void;
    /** Drops a pending run. */
    cancel(): void;
}

export function debounce(action: () => void, delayMs: number, timers: Timers): Debounced {
    let pending: unknown;
    const run = (() => {
        if (pending !== undefined) {
            timers.clearTimeout(pending);
        }
        pending = timers.setTimeout(() => {
            pending = undefined;
            action();
        }, delayMs);
    }) as Debounced;
    run.cancel = () => {
        if (pending !== undefined) {
            timers.clearTimeout(pending);
            pending = undefined;
        }
    };
    return run;
}
