/**
 * Run by Bun: serves one file at every path with `new Response(Bun.file(path))`, the
 * fastest way this machine has to send a file over loopback (docs/RUNTIMES.md). Prints
 * "port=N" once listening; exits on SIGTERM.
 *   bun bench/file-server.ts <file>
 */
declare const Bun: {
  file(path: string): Blob;
  serve(o: { port: number; hostname: string; fetch(req: Request): Response }): { port: number };
};

const path = process.argv[2];
if (!path) {
  console.error("usage: bun bench/file-server.ts <file>");
  process.exit(2);
}
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(Bun.file(path)) });
console.log(`port=${server.port}`);
