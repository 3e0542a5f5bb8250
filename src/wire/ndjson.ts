/** Reading a volume's /_kvdb/list: newline-delimited JSON, one line at a time, never whole. */
export async function* ndjsonLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += decoder.decode(value, { stream: true });
    const parts = rest.split("\n");
    rest = parts.pop()!;
    for (const p of parts) if (p.trim()) yield p;
  }
  if (rest.trim()) yield rest;
}
