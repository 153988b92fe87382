// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect
// metadata API before the library loads.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * The provider's own TLS certificate for go-plugin's AutoMTLS: self-signed, for
 * `localhost`, usable for server and client auth, and a CA (Terraform trusts it as
 * the only root for this one connection), as go-plugin's generateCert makes it.
 */
export interface PluginCertificate {
  /** DER bytes: the handshake line carries them in unpadded base64. */
  readonly der: Buffer;
  readonly certPem: string;
  readonly keyPem: string;
}

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export async function generatePluginCertificate(now = new Date()): Promise<PluginCertificate> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, and 16 bytes long, as go-plugin's
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: 'O=HashiCorp, CN=localhost',
      // A little slack for a clock that Terraform reads a moment differently.
      notBefore: new Date(now.getTime() - 30_000),
      notAfter: new Date(now.getTime() + 365 * 86_400_000),
      signingAlgorithm: algorithm,
      keys,
      extensions: [
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature |
            x509.KeyUsageFlags.keyEncipherment |
            x509.KeyUsageFlags.keyCertSign,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.clientAuth,
          x509.ExtendedKeyUsage.serverAuth,
        ]),
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'localhost' }]),
      ],
    },
    // The library's typings follow the DOM's Crypto, which names one more algorithm than Node's.
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    der: Buffer.from(certificate.rawData),
    certPem: certificate.toString('pem'),
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
  };
}
