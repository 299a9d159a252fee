import { Space, Typography } from 'antd';
import { useLang } from '../i18n';

/** Every voucher kind, named as on the voucher itself. */
export const voucherKindNames: Record<string, readonly [string, string]> = {
  deposit_receipt: ['保证金到账凭证', 'Deposit receipt'],
  refund_voucher: ['退款凭证', 'Refund voucher'],
  verification_report: ['保函验真报告', 'Guarantee verification report'],
  opening_roster: ['开标保证金名册', 'Opening roster'],
  claim_notice: ['索赔通知', 'Claim notice'],
  reconciliation_report: ['对账报告', 'Reconciliation report'],
  deposit_reversal: ['冲正凭证', 'Reversal voucher'],
  refund_return: ['退汇凭证', 'Refund return voucher'],
  statistics: ['统计报表', 'Statistics report'],
};

export interface VoucherRef {
  id: string;
  kind: string;
  status?: string;
}

/** Links that open each signed voucher's PDF inline (the api serves it to whoever may see its subject). */
export function VoucherLinks({ vouchers }: { vouchers: readonly VoucherRef[] | null | undefined }) {
  const { t } = useLang();
  if (!vouchers?.length) return <Typography.Text type="secondary">—</Typography.Text>;
  return (
    <Space wrap size="small">
      {vouchers.map((v) => {
        const name = voucherKindNames[v.kind] ?? [v.kind, v.kind];
        const label = t(name[0], name[1]);
        if (v.status && v.status !== 'signed') {
          return (
            <Typography.Text key={v.id} type="secondary">
              {label} ({v.status === 'failed' ? t('生成失败', 'failed') : t('生成中', 'being signed')})
            </Typography.Text>
          );
        }
        return (
          <Typography.Link key={v.id} href={`/v1/vouchers/${v.id}/pdf`} target="_blank" rel="noopener" data-voucher-id={v.id}>
            {label}
          </Typography.Link>
        );
      })}
    </Space>
  );
}
