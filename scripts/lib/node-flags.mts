// V8 flags for Threadline's own processes (the API and the workers), wherever they are started:
// npm start, the benchmarks, and the container images (Dockerfile, docker-compose.yml).
//
// --max-semi-space-size=4 caps each of the young generation's semi-spaces at 4 MB (Node 24
// lets them grow to 16 MB, or more on large machines). Under load a process allocates fast
// and V8 grows them, which took the API's peak RSS from 170 MB idle to about 350 MB in the
// submit benchmark; capped, the peak stays near 230 MB at the same requests/s (more frequent,
// shorter scavenges). bench/RESULTS.md has the figures.
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
