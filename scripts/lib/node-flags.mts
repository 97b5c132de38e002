// V8 flags for Threadline's own processes (the API and the workers), wherever they are started:
// npm start, the benchmarks, and the container images (Dockerfile, docker-compose.yml).
//
// --max-semi-space-size=4 caps each of the young generation's semi-spaces at 4 MB (Node 24
// lets them grow to 16 MB, or more on large machines). Under load a process allocates fast
// and V8 grows them, which took the API's peak RSS from 170 MB idle to about 350 MB in the
// submit benchmark; capped, the peak stays near 230 MB at the same requests/s (more frequent,
// shorter scavenges). bench/RESULTS.md has the figures.
//
// --heap-growing-percent=30 lets the old generation grow to 1.3 times what the last full
// collection kept before the next one, where V8 would pick up to about twice that when
// collections are cheap. What a busy process promotes is mostly short-lived (a request or a
// job whose Redis reply was awaited), so the heap filled with garbage: a worker draining 20,000
// tasks reached 90-95 MB of heap and 226-235 MB of peak RSS, and reaches 52-56 MB and 182-192
// MB with the flag, for 9 full collections instead of 2 (under 100 ms of 10 s) and the same CPU
// time per task within noise (337-390 against 339-400 µs); the API under submit keeps its heap
// near 74 MB instead of 76-105 MB.
export const NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=30',
];

// MALLOC_ARENA_MAX=2 caps glibc's malloc at two arenas. By default it gives each thread that
// allocates its own arena (up to 8 per core), and a Threadline process has several: the event
// loop, the log transport thread, libuv's pool, V8's GC helpers. Each arena keeps its freed
// pages, so under load the API's peak RSS was 218-225 MB with the default and 205-210 MB with
// two arenas, at the same or lower CPU time per request (three A/B pairs under the submit load).
// glibc reads it when the process starts: every launcher passes it in the environment.
export const RUNTIME_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
