import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { debounce, Timers } from '../src/common/debounce';

/** Timers driven by hand. */
function fakeTimers(): Timers & { advance(ms: number): void } {
    let now = 0;
    let next = 1;
    const pending = new Map<number, { at: number; fn: () => void }>();
    return {
        setTimeout(fn, ms) {
            const id = next++;
            pending.set(id, { at: now + ms, fn });
            return id;
        },
        clearTimeout(id) {
            pending.delete(id as number);
        },
        advance(ms) {
            now += ms;
            for (const [id, t] of [...pending]) {
                if (t.at <= now) {
                    pending.delete(id);
                    t.fn();
                }
            }
        },
    };
}

describe('debounce', () => {
    it('runs once, a delay after the last call', () => {
        const timers = fakeTimers();
        let runs = 0;
        const restart = debounce(() => runs++, 1000, timers);
        restart();
        timers.advance(600);
        restart();
        timers.advance(600);
        assert.equal(runs, 0);
        timers.advance(400);
        assert.equal(runs, 1);
        timers.advance(5000);
        assert.equal(runs, 1);
    });

    it('can be cancelled', () => {
        const timers = fakeTimers();
        let runs = 0;
        const restart = debounce(() => runs++, 1000, timers);
        restart();
        restart.cancel();
        timers.advance(2000);
        assert.equal(runs, 0);
    });
});
