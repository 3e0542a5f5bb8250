/**
 * The whole API test (api.test.ts) once more with authentication on (issue 26's target:
 * the checks run green with every request carrying a token): an admin key is made in
 * the index before the master starts, and every request the test makes carries its
 * token (tests/http.ts carryToken); one more test sees requests without it refused.
 */
import process from "node:process";

process.env.KVDB_TEST_AUTH = "1";
await import("./api.test.ts");
