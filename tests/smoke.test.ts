import { test } from "uvu";
import * as assert from "uvu/assert";
import { startCluster } from "../harness/cluster.ts";

test("PUT then GET through the redirect returns the bytes", async () => {
  const c = await startCluster();
  try {
    const put = await fetch(`${c.url}/hello`, { method: "PUT", body: "world" });
    assert.is(put.status, 201);
    const get = await fetch(`${c.url}/hello`);
    assert.is(get.status, 200);
    assert.is(await get.text(), "world");
  } finally {
    await c.close();
  }
});

test.run();
