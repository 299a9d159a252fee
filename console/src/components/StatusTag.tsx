import { Tag } from 'antd';
import { useLang } from '../i18n';

const words: Record<string, readonly [string, string, string]> = {
  // [zh, en, colour]
  received: ['已到账', 'received', 'default'],
  valid: ['有效', 'valid', 'green'],
  invalid: ['无效', 'invalid', 'red'],
  suspense: ['待查', 'in suspense', 'orange'],
  forfeited: ['不予退还', 'forfeited', 'red'],
  refunded: ['已退还', 'refunded', 'blue'],
  held: ['待裁定', 'held for decision', 'orange'],
  reversed: ['已冲正', 'reversed', 'default'],
  scheduled: ['待退款', 'scheduled', 'default'],
  submitted: ['已提交银行', 'sent to the bank', 'processing'],
  settled: ['已退款', 'settled', 'green'],
  manual: ['人工处理', 'manual handling', 'orange'],
  returned: ['退汇', 'returned', 'red'],
  cancelled: ['已取消', 'cancelled', 'default'],
  issued: ['已出具', 'issued', 'green'],
  rejected: ['已拒绝', 'rejected', 'red'],
  released: ['已解除', 'released', 'default'],
  secured: ['已担保', 'secured', 'green'],
  amended: ['已修改', 'amended', 'green'],
  claim_paid: ['已赔付', 'claim paid', 'red'],
  claim_refused: ['拒绝赔付', 'claim refused', 'orange'],
  insufficient: ['金额不足', 'insufficient', 'orange'],
  missing: ['未提交', 'missing', 'default'],
  expired: ['已过期', 'expired', 'default'],
  claimed: ['已索赔', 'claimed', 'red'],
  open: ['进行中', 'open', 'processing'],
  opened: ['已开标', 'opened', 'blue'],
  awarded: ['已定标', 'awarded', 'blue'],
  contracted: ['已签约', 'contracted', 'blue'],
  terminated: ['已终止', 'terminated', 'default'],
  resolved: ['已处理', 'resolved', 'green'],
  pending: ['处理中', 'pending', 'processing'],
  signed: ['已签章', 'signed', 'green'],
  failed: ['失败', 'failed', 'red'],
};

/** A status in words and colour; an unknown status is shown as the API spelt it. */
export function StatusTag({ status }: { status: string | null | undefined }) {
  const { t } = useLang();
  if (!status) return null;
  const w = words[status];
  return <Tag color={w?.[2] ?? 'default'}>{w ? t(w[0], w[1]) : status}</Tag>;
}
