/** api.test.ts with TLS on, its servers under Bun (api-tls.ts). */
import { apiOverTls } from "./api-tls.ts";

apiOverTls("bun");
