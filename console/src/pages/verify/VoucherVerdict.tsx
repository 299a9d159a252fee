// The answer to an uploaded PDF: the service's verdict and message, with the headline each
// verdict is known by. On a voucher's own page the answer also says whether the file is that
// voucher: a valid voucher that is another one is not a match.
import { Link } from 'react-router';
import { useLang } from '../../i18n';
import type { VoucherCheck, VoucherPageCheck } from './api';
import { Verdict, type VerdictLook } from './Verdict';
import { VoucherSummary } from './VoucherSummary';

const headlines: Record<VoucherCheck['verdict'], { look: VerdictLook; zh: string; en: string }> = {
  valid: { look: 'good', zh: '真实有效', en: 'Valid' },
  changed: { look: 'bad', zh: '已被改动', en: 'Changed after signing' },
  untrusted: { look: 'warning', zh: '签名不可信', en: 'Untrusted signature' },
  unknown: { look: 'unknown', zh: '无法确认', en: 'Unknown document' },
};

/** The result of POST /v1/vouchers/verify: with the voucher's summary when it is one of ours. */
export function VoucherVerdict({ check }: { check: VoucherCheck }) {
  const { t } = useLang();
  const h = headlines[check.verdict];
  return (
    <Verdict look={h.look} headline={h} message={check.message} testId="voucher-verdict">
      {check.verdict === 'valid' && check.voucher && (
        <div style={{ marginTop: 12 }}>
          <VoucherSummary voucher={check.voucher} title={t('存档凭证', 'The voucher on record')} />
          <p style={{ margin: '8px 0 0' }}>
            <Link to={`/verify/${encodeURIComponent(check.voucher.id)}`}>{t('打开该凭证的核验页', "Open this voucher's page")}</Link>
          </p>
        </div>
      )}
    </Verdict>
  );
}

/** The result of POST /v1/public/vouchers/:id/verify on the page of voucher `pageVoucherId`. */
export function VoucherPageVerdict({ check, pageVoucherId }: { check: VoucherPageCheck; pageVoucherId: string }) {
  const { t } = useLang();
  if (check.matchesVoucher) {
    return (
      <Verdict
        look="good"
        headline={{ zh: '真实有效：正是此凭证', en: 'Valid: this is the voucher' }}
        message={check.message}
        testId="voucher-verdict"
      />
    );
  }
  if (check.verdict === 'valid' && check.voucherId && check.voucherId !== pageVoucherId) {
    return (
      <Verdict
        look="warning"
        headline={{ zh: '不是此凭证', en: 'Not this voucher' }}
        message={{
          zh: `该文件是本中心出具的另一份真实凭证（${check.voucherId}），不是本页的凭证。`,
          en: `The file is another genuine voucher of ours (${check.voucherId}), not the one on this page.`,
        }}
        testId="voucher-verdict"
      >
        <p style={{ margin: '8px 0 0' }}>
          <Link to={`/verify/${encodeURIComponent(check.voucherId)}`}>{t('打开该凭证的核验页', "Open that voucher's page")}</Link>
        </p>
      </Verdict>
    );
  }
  const h = headlines[check.verdict];
  return <Verdict look={h.look} headline={h} message={check.message} testId="voucher-verdict" />;
}
