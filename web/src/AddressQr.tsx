/** An address as a QR code (SVG drawn by the qrcode package in the page, nothing fetched), for the receive panels. */
import QRCode from 'qrcode';
import { useEffect, useState, type ReactNode } from 'react';

/**
 * The QR code of a bech32 address, or nothing while it is drawn (or if drawing fails: the address text beside it
 * stays the source of truth). Encoded in upper case, which QR's alphanumeric mode packs densely (BIP-173 allows it).
 */
export function AddressQr(props: { address: string }): ReactNode {
  const [svg, setSvg] = useState<{ address: string; svg: string } | undefined>(undefined);
  useEffect(() => {
    let live = true;
    QRCode.toString(props.address.toUpperCase(), { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
      .then((s) => live && setSvg({ address: props.address, svg: s }))
      .catch(() => live && setSvg(undefined));
    return () => {
      live = false;
    };
  }, [props.address]);
  if (svg === undefined || svg.address !== props.address) return null;
  return <div className="qr" role="img" aria-label={`QR code of ${props.address}`} data-testid="address-qr" dangerouslySetInnerHTML={{ __html: svg.svg }} />;
}
