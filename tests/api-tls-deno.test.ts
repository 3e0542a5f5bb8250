/** api.test.ts with TLS on, its servers under Deno (api-tls.ts). */
import { apiOverTls } from "./api-tls.ts";

apiOverTls("deno");
