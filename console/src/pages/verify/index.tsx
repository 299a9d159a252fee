// The public verification pages: no sign-in, made for a phone that scanned a voucher's QR code
// and for anyone holding a paper or PDF copy of a voucher or a guarantee.
import { GuaranteePage } from './GuaranteePage';
import type { VerifyPageName } from './PublicFrame';
import { UploadPage } from './UploadPage';
import { VoucherPage } from './VoucherPage';

export default function VerifyPages({ page }: { page: VerifyPageName }) {
  switch (page) {
    case 'upload':
      return <UploadPage />;
    case 'voucher':
      return <VoucherPage />;
    case 'guarantee':
      return <GuaranteePage />;
  }
}
