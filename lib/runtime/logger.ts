import { Logger } from "@aws-lambda-powertools/logger";
import type { Log } from "../log.js";

/** Powertools' JSON logger behind the Log port, shared by handlers and the local stack. */
export function createLogger(service = "tourniquet"): Log {
  const logger = new Logger({
    serviceName: service,
    logLevel: (process.env.LOG_LEVEL as "INFO" | undefined) ?? "INFO",
  });
  return {
    debug: (message, attributes) => logger.debug(message, attributes ?? {}),
    info: (message, attributes) => logger.info(message, attributes ?? {}),
    warn: (message, attributes) => logger.warn(message, attributes ?? {}),
    error: (message, attributes) => logger.error(message, attributes ?? {}),
  };
}
