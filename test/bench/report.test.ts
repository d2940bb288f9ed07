/**
 * The bench report (bench/report.ts, bench/table.ts) for made-up outcomes: the table and the
 * notes, word for word, so a change to how the report is built cannot change what it prints.
 * Targets come from the plan (bench/plan.ts); every one of them must reach the table.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PLANS } from '../../bench/plan.js';
import { buildReport } from '../../bench/report.js';
import { renderTable } from '../../bench/table.js';
import { HEALTHY, TROUBLED } from './report-fixtures.js';

describe('bench report', () => {
  test('healthy runs: every target met, notes with CPU, memory and the reference route', () => {
    const report = buildReport(HEALTHY);
    assert.equal(report.anyFailed, false);
    assert.equal(renderTable(report.rows), HEALTHY_TABLE);
    assert.deepEqual(report.notes, HEALTHY_NOTES);
  });

  test('troubled runs: FAILED, SKIPPED and FALL SHORT verdicts, failures and capped transfers in the notes', () => {
    const report = buildReport(TROUBLED);
    assert.equal(report.anyFailed, true);
    assert.equal(renderTable(report.rows), TROUBLED_TABLE);
    assert.deepEqual(report.notes, TROUBLED_NOTES);
  });

  test("every plan's target appears in the Target column", () => {
    const shown = new Set(buildReport(HEALTHY).rows.map((row) => `${row.id} ${row.target}`));
    const inFixtures = new Set(HEALTHY.map((outcome) => outcome.plan.id)); // the WAN figures (9-11) have no fixtures yet
    for (const plan of PLANS.filter((p) => inFixtures.has(p.id))) {
      for (const target of Object.values(plan.targets ?? {})) assert.ok(shown.has(`${plan.id} ${target.text}`), `#${plan.id} ${target.text}`);
    }
  });
});

const HEALTHY_TABLE = `
# │ Figure                                            │ Direct │ Tunnel │ Tunnel/Direct │ Target            │ Verdict
──┼───────────────────────────────────────────────────┼────────┼────────┼───────────────┼───────────────────┼────────
1 │ Bulk upload, 1 stream, best of 3 (MB/s)           │   2400 │    900 │        0.375× │ ≥ 0.25× direct    │ PASS
  │ Bulk download, 1 stream, best of 3 (MB/s)         │   2600 │   1100 │        0.423× │ ≥ 0.25× direct    │ PASS
  │ Bulk upload ÷ download, tunnel                    │      — │  0.82× │               │ ≥ 0.80            │ PASS
  │ Bulk upload, naive tunnel in Direct (MB/s)        │    700 │    900 │         1.29× │ ≥ 1.2× naive      │ PASS
──┼───────────────────────────────────────────────────┼────────┼────────┼───────────────┼───────────────────┼────────
2 │ Connect + 1 B echo, p50 (ms)                      │  0.210 │  0.450 │         2.14× │ ≤ 2.5× direct     │ PASS
  │ Connect + 1 B echo, p99 (ms)                      │  0.630 │   1.35 │         2.14× │                   │
  │ Connect failures (of 1002)                        │      0 │      0 │               │                   │
  │ Connect + 1 B echo, p50, v2ray mux in Direct (ms) │  0.500 │  0.450 │        0.900× │ < v2ray mux       │ PASS
──┼───────────────────────────────────────────────────┼────────┼────────┼───────────────┼───────────────────┼────────
3 │ 64 B round trips/s, 8 streams                     │  90000 │  40000 │        0.444× │ ≥ 0.30× direct    │ PASS
──┼───────────────────────────────────────────────────┼────────┼────────┼───────────────┼───────────────────┼────────
4 │ 1000 at once: wall time to all echoed (ms)        │    180 │    420 │         2.33× │                   │
  │ 1000 at once: failures                            │      0 │      0 │               │ 0                 │ PASS
  │ 1000 at once: relay+client RSS/stream (KiB)       │      — │   51.2 │               │ ≤ 64 KiB          │ PASS
──┼───────────────────────────────────────────────────┼────────┼────────┼───────────────┼───────────────────┼────────
5 │ 10k idle: time to open + echo all (s)             │   1.80 │   4.20 │         2.33× │                   │
  │ 10k idle: not served (open + re-check)            │      0 │      0 │               │ 0 (all served)    │ PASS
  │ 10k idle: relay+client RSS/stream (KiB)           │      — │   5.12 │               │ report            │
──┼───────────────────────────────────────────────────┼────────┼────────┼───────────────┼───────────────────┼────────
6 │ B 256 MiB download alone, median (MB/s)           │   2000 │   1000 │        0.500× │                   │
  │ B with A stalled, median (MB/s)                   │   1950 │    960 │        0.492× │                   │
  │ B's throughput lost to stalled A                  │  2.5 % │  4.0 % │               │ < 10 %            │ PASS
  │ relay+client RSS growth, A stalled (MiB)          │      — │   16.0 │               │ bounded: ≤ 32 MiB │ PASS
──┼───────────────────────────────────────────────────┼────────┼────────┼───────────────┼───────────────────┼────────
7 │ UDP 512 B echoed datagrams/s, window 128          │  50000 │  20000 │        0.400× │ none given        │ report
  │ UDP 512 B datagrams lost                          │ 0.00 % │ 0.01 % │               │ none given        │ report
  │ UDP 1400 B echoed datagrams/s, window 128         │  45000 │  18000 │        0.400× │ none given        │ report
  │ UDP 1400 B datagrams lost                         │ 0.00 % │ 0.02 % │               │ none given        │ report
──┼───────────────────────────────────────────────────┼────────┼────────┼───────────────┼───────────────────┼────────
8 │ BIND → 1st reply (listening), p50 (ms)            │  0.300 │  0.700 │         2.33× │ none given        │ report
  │ BIND → 1st reply (listening), p99 (ms)            │  0.750 │   1.75 │         2.33× │ none given        │ report
  │ BIND → 2nd reply (peer accepted), p50 (ms)        │  0.500 │   1.10 │         2.20× │ none given        │ report
  │ BIND → 2nd reply (peer accepted), p99 (ms)        │   1.25 │   2.75 │         2.20× │ none given        │ report
  │ BIND failures (of 200)                            │      0 │      0 │               │                   │
`.slice(1, -1);

const HEALTHY_NOTES = [
  "#1 tunnel: CPU over the 3.0 s run: client 2.25 s (75 % of a core), relay 1.50 s (50 %)",
  "#1 direct: uploads 2400 / 2160 / 2280 MB/s, downloads 2600 / 2340 / 2080 MB/s (the best counts; 512 / 512 MiB per run)",
  "#1 tunnel: uploads 900 / 810 / 855 MB/s, downloads 1100 / 990 / 880 MB/s (the best counts; 512 / 512 MiB per run)",
  "#1 tunnel: CPU per GiB moved, client + relay: upload 2.00 s (client 0.90, relay 1.10), download 1.30 s (client 0.70, relay 0.60)",
  "#1 reference, two plain Node forwarders in series (no SOCKS, no WebSocket): upload 1500 MB/s = 0.625× direct, download 1700 MB/s = 0.654× direct",
  "#1 naive tunnel, one WebSocket per stream (ws + bufferutil + pipe()): upload 700 MB/s, download 800 MB/s",
  "#1 v2ray mux, V2Ray with VLESS over one WebSocket and mux.cool (no TLS): upload 300 MB/s, download 350 MB/s",
  "#2 tunnel: CPU over the 3.0 s run: client 2.25 s (75 % of a core), relay 1.50 s (50 %)",
  "#2 direct: p90 0.315 ms, max 1.89 ms",
  "#2 tunnel: p90 0.675 ms, max 4.05 ms",
  "#2 tunnel: CPU per connect (incl. warm-up): client 1731 µs, relay 1154 µs",
  "#2 reference, two plain Node forwarders in series (no SOCKS, no WebSocket): p50 0.300 ms = 1.43× direct",
  "#2 SOCKS reference, a SOCKS5 front answering at once (as fast open does) and one plain forwarder, no WebSocket: p50 0.400 ms = 1.90× direct",
  "#2 v2ray mux, V2Ray with VLESS over one WebSocket and mux.cool (no TLS): p50 0.500 ms, p90 0.750 ms, p99 1.50 ms, 0 failed",
  "#3 tunnel: CPU over the 3.0 s run: client 2.25 s (75 % of a core), relay 1.50 s (50 %)",
  "#3 direct: mean round trip per stream 88.9 µs",
  "#3 tunnel: mean round trip per stream 200 µs",
  "#3 tunnel: CPU per round trip ≈ client 16.1 µs, relay 10.7 µs",
  "#3 reference, two plain Node forwarders in series (no SOCKS, no WebSocket): 60000 round trips/s = 0.667× direct",
  "#4 tunnel: CPU over the 3.0 s run: client 2.25 s (75 % of a core), relay 1.50 s (50 %)",
  "#4 direct: per-stream time to echo from the common start: p50 90.0 ms, p99 171 ms",
  "#4 tunnel: per-stream time to echo from the common start: p50 210 ms, p99 399 ms",
  "#4 tunnel RSS: before relay 60.0 MiB + client 50.0 MiB; all open relay 90.0 MiB + client 70.0 MiB",
  "#5 tunnel: CPU over the 3.0 s run: client 2.25 s (75 % of a core), relay 1.50 s (50 %)",
  "#5 direct: re-check of all 10000 held streams took 600 ms",
  "#5 tunnel: re-check of all 10000 held streams took 1400 ms",
  "#5 tunnel RSS: before relay 60.0 MiB + client 50.0 MiB; all open relay 90.0 MiB + client 70.0 MiB",
  "#6 tunnel: CPU over the 3.0 s run: client 2.25 s (75 % of a core), relay 1.50 s (50 %)",
  "#6 direct: B alone 2000 / 2200 MB/s, with A stalled 1950 / 2048 MB/s (medians compared)",
  "#6 tunnel: B alone 1000 / 1100 MB/s, with A stalled 960 / 1008 MB/s (medians compared)",
  "#6 tunnel: relay+client RSS change over 0.5 s with only A (stalled) open: 0.500 MiB (flat means A's backlog is bounded)",
  "#6 tunnel RSS: before A relay 61.0 MiB + client 51.0 MiB; A stalled relay 70.0 MiB + client 55.0 MiB; 0.5 s later relay 70.5 MiB + client 55.0 MiB; after the last B relay 72.0 MiB + client 56.0 MiB; peak relay 80.0 MiB + client 60.0 MiB",
  "#7 tunnel: CPU over the 3.0 s run: client 2.25 s (75 % of a core), relay 1.50 s (50 %)",
  "#7 direct: 512 B: 0 of 100000 lost (no reply within 250 ms), RTT p50 2.40 µs, p99 9.60 µs",
  "#7 direct: 1400 B: 0 of 90000 lost (no reply within 250 ms), RTT p50 2.67 µs, p99 10.7 µs",
  "#7 tunnel: 512 B: 3 of 40000 lost (no reply within 250 ms), RTT p50 6.00 µs, p99 24.0 µs",
  "#7 tunnel: 1400 B: 6 of 36000 lost (no reply within 250 ms), RTT p50 6.67 µs, p99 26.7 µs",
  "#7 tunnel: CPU per echoed datagram (incl. warm-up and association setup): client 25.7 µs, relay 17.2 µs",
  "#8 tunnel: CPU over the 3.0 s run: client 2.25 s (75 % of a core), relay 1.50 s (50 %)",
  "#8 direct: to 1st reply p90 0.420 ms, max 2.10 ms; to 2nd reply p90 0.700 ms, max 3.50 ms",
  "#8 tunnel: to 1st reply p90 0.980 ms, max 4.90 ms; to 2nd reply p90 1.54 ms, max 7.70 ms",
  "#8 tunnel: CPU per BIND (greeting, both replies, 1-byte check; incl. warm-up): client 9000 µs, relay 6000 µs",
];

const TROUBLED_TABLE = `
# │ Figure                                      │  Direct │  Tunnel │ Tunnel/Direct │ Target            │ Verdict
──┼─────────────────────────────────────────────┼─────────┼─────────┼───────────────┼───────────────────┼───────────
1 │ Bulk upload, 1 stream, best of 3 (MB/s)     │    2400 │     400 │        0.167× │ ≥ 0.25× direct    │ FALL SHORT
  │ Bulk download, 1 stream, best of 3 (MB/s)   │    2600 │    1100 │        0.423× │ ≥ 0.25× direct    │ PASS
  │ Bulk upload ÷ download, tunnel              │       — │   0.36× │               │ ≥ 0.80            │ FALL SHORT
  │ Bulk upload, naive tunnel in Direct (MB/s)  │     600 │     400 │        0.667× │ ≥ 1.2× naive      │ FALL SHORT
──┼─────────────────────────────────────────────┼─────────┼─────────┼───────────────┼───────────────────┼───────────
2 │ Connect + 1 B echo, p50 (ms)                │   0.200 │   0.600 │         3.00× │ ≤ 2.5× direct     │ FALL SHORT
  │ Connect + 1 B echo, p99 (ms)                │   0.600 │    1.80 │         3.00× │                   │
  │ Connect failures (of 1002)                  │       4 │       2 │               │                   │
──┼─────────────────────────────────────────────┼─────────┼─────────┼───────────────┼───────────────────┼───────────
3 │ 64 B round trips/s, 8 streams               │  FAILED │   40000 │               │ ≥ 0.30× direct    │ FAILED
──┼─────────────────────────────────────────────┼─────────┼─────────┼───────────────┼───────────────────┼───────────
4 │ 1000 at once: wall time to all echoed (ms)  │     180 │     800 │         4.44× │                   │
  │ 1000 at once: failures                      │       0 │       2 │               │ 0                 │ FALL SHORT
  │ 1000 at once: relay+client RSS/stream (KiB) │       — │     144 │               │ ≤ 64 KiB          │ FALL SHORT
──┼─────────────────────────────────────────────┼─────────┼─────────┼───────────────┼───────────────────┼───────────
5 │ 10k idle: time to open + echo all (s)       │ skipped │ skipped │               │                   │ SKIPPED
  │ 10k idle: not served (open + re-check)      │ skipped │ skipped │               │ 0 (all served)    │ SKIPPED
  │ 10k idle: relay+client RSS/stream (KiB)     │ skipped │ skipped │               │ report            │ SKIPPED
──┼─────────────────────────────────────────────┼─────────┼─────────┼───────────────┼───────────────────┼───────────
6 │ B 256 MiB download alone, median (MB/s)     │    2000 │    1000 │        0.500× │                   │
  │ B with A stalled, median (MB/s)             │    1950 │     700 │        0.359× │                   │
  │ B's throughput lost to stalled A            │   2.5 % │  30.0 % │               │ < 10 %            │ FALL SHORT
  │ relay+client RSS growth, A stalled (MiB)    │       — │    16.0 │               │ bounded: ≤ 32 MiB │ PASS
──┼─────────────────────────────────────────────┼─────────┼─────────┼───────────────┼───────────────────┼───────────
7 │ UDP 512 B echoed datagrams/s, window 128    │   50000 │  FAILED │               │ none given        │ FAILED
  │ UDP 512 B datagrams lost                    │  0.00 % │  FAILED │               │ none given        │ FAILED
  │ UDP 1400 B echoed datagrams/s, window 128   │   45000 │  FAILED │               │ none given        │ FAILED
  │ UDP 1400 B datagrams lost                   │  0.00 % │  FAILED │               │ none given        │ FAILED
──┼─────────────────────────────────────────────┼─────────┼─────────┼───────────────┼───────────────────┼───────────
8 │ BIND → 1st reply (listening), p50 (ms)      │   0.300 │   0.700 │         2.33× │ none given        │ report
  │ BIND → 1st reply (listening), p99 (ms)      │   0.750 │    1.75 │         2.33× │ none given        │ report
  │ BIND → 2nd reply (peer accepted), p50 (ms)  │   0.500 │    1.10 │         2.20× │ none given        │ report
  │ BIND → 2nd reply (peer accepted), p99 (ms)  │    1.25 │    2.75 │         2.20× │ none given        │ report
  │ BIND failures (of 200)                      │       1 │       5 │               │                   │
`.slice(1, -1);

const TROUBLED_NOTES = [
  "#1 reference: FAILED: forwarder did not start",
  "#1 direct: uploads 2400 / 2160 / 2280 MB/s, downloads 2600 / 2340 / 2080 MB/s (the best counts; 512 / 512 MiB per run)",
  "#1 direct: a transfer hit the time cap after 512 MiB; its rate is of what arrived",
  "#1 tunnel: uploads 400 / 360 / 380 MB/s, downloads 1100 / 990 / 880 MB/s (the best counts; 512 / 512 MiB per run)",
  "#1 tunnel: a transfer hit the time cap after 512 MiB; its rate is of what arrived",
  "#1 naive tunnel, one WebSocket per stream (ws + bufferutil + pipe()): upload 600 MB/s, download 700 MB/s",
  "#2 direct: 4 of 1002 connects failed (ECONNRESET ×3)",
  "#2 direct: p90 0.300 ms, max 1.80 ms",
  "#2 tunnel: 2 of 1002 connects failed (ECONNRESET ×3)",
  "#2 tunnel: p90 0.900 ms, max 5.40 ms",
  "#2 v2ray mux: not run: v2ray is not installed (Debian: apt-get install v2ray, or BENCH_V2RAY=/path/to/v2ray)",
  "#3 direct: FAILED: timed out after 20000 ms",
  "#3 tunnel: 1 of 8 streams broke or stalled",
  "#3 tunnel: mean round trip per stream 200 µs",
  "#4 direct: per-stream time to echo from the common start: p50 90.0 ms, p99 171 ms",
  "#4 tunnel: 2 failed: timeout ×2",
  "#4 tunnel: per-stream time to echo from the common start: p50 400 ms, p99 760 ms",
  "#4 tunnel RSS: before relay 60.0 MiB + client 50.0 MiB; all open relay 150.0 MiB + client 100.0 MiB",
  "#5 skipped: needs 12000 open files, the limit is 1024",
  "#6 tunnel: CPU over the 3.0 s run: client 2.25 s (75 % of a core), relay 1.50 s (50 %)",
  "#6 direct: B alone 2000 / 2200 MB/s, with A stalled 1950 / 2048 MB/s (medians compared)",
  "#6 tunnel: stalled stream A had been closed before it was released",
  "#6 tunnel: B alone 1000 / 1100 MB/s, with A stalled 700 / 735 MB/s (medians compared)",
  "#6 tunnel: relay+client RSS change over 0.5 s with only A (stalled) open: 0.500 MiB (flat means A's backlog is bounded)",
  "#6 tunnel RSS: before A relay 61.0 MiB + client 51.0 MiB; A stalled relay 70.0 MiB + client 55.0 MiB; 0.5 s later relay 70.5 MiB + client 55.0 MiB; after the last B relay 72.0 MiB + client 56.0 MiB; peak relay 80.0 MiB + client 60.0 MiB",
  "#7 tunnel: FAILED: relay exited with code 1",
  "#7 direct: 512 B: 0 of 100000 lost (no reply within 250 ms), RTT p50 2.40 µs, p99 9.60 µs; 2 came back after their timeout",
  "#7 direct: 1400 B: 0 of 90000 lost (no reply within 250 ms), RTT p50 2.67 µs, p99 10.7 µs; 2 garbled replies",
  "#8 direct: 1 of 200 BINDs failed (REP 0x01)",
  "#8 direct: to 1st reply p90 0.420 ms, max 2.10 ms; to 2nd reply p90 0.700 ms, max 3.50 ms",
  "#8 tunnel: 5 of 200 BINDs failed (REP 0x01)",
  "#8 tunnel: to 1st reply p90 0.980 ms, max 4.90 ms; to 2nd reply p90 1.54 ms, max 7.70 ms",
];
