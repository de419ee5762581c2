/**
 * HTTPS for the API, the dashboard's socket and every HTTP route: the PEM certificate chain and
 * key of SLUICE_TLS_CERT_FILE and SLUICE_TLS_KEY_FILE. They are read before anything else starts
 * (a missing or bad file is a startup error naming the variable, never the key's content), and
 * read again on SIGHUP so a renewed certificate is served without a restart.
 */
import fs from "node:fs";
import tls from "node:tls";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** Reads and checks the pair; throws an Error that names the variable and the reason. */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  const read = (variable: string, file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (error) {
      throw new Error(
        `${variable}=${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
        {
          cause: error,
        },
      );
    }
  };
  const material = {
    cert: read("SLUICE_TLS_CERT_FILE", files.certFile),
    key: read("SLUICE_TLS_KEY_FILE", files.keyFile),
  };
  try {
    // Parses both and checks that the key matches the certificate.
    tls.createSecureContext(material);
  } catch (error) {
    // OpenSSL's reason only (e.g. "key values mismatch"): no PEM content.
    const reason = (error as Error).message.split("\n")[0];
    throw new Error(`SLUICE_TLS_CERT_FILE and SLUICE_TLS_KEY_FILE are not a usable pair: ${reason}`, {
      cause: error,
    });
  }
  return material;
}
