// The public verification pages: no sign-in, made for a phone that scanned a voucher's QR code.
import { Placeholder } from '../Placeholder';

export default function VerifyPages({ page }: { page: 'upload' | 'voucher' | 'guarantee' }) {
  void page;
  return <Placeholder />;
}
