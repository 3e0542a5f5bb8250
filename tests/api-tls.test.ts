/** api.test.ts with TLS on, its servers under Node (api-tls.ts). */
import { apiOverTls } from "./api-tls.ts";

apiOverTls("node");
