/**
 * The whole API test (api.test.ts) once more against two masters sharing one
 * PostgreSQL index: each request goes to the other master than the one before, so
 * every 201, 204 and 409 there is also read back across masters.
 */
import process from "node:process";

process.env.KVDB_TEST_TWO_MASTERS = "1";
await import("./api.test.ts");
