import { List, Typography } from 'antd';
import { useLang } from '../i18n';

/** What each rule means, in words a bidder's clerk understands. */
export const ruleWords: Record<string, readonly [string, string]> = {
  R1: ['保证金不超过估算价的 2%', 'The deposit is at most 2% of the estimated price'],
  R2: ['保函有效期覆盖投标有效期', "The guarantee is valid for the whole bid validity period"],
  R3: ['在投标截止时间前到账（或出具）', 'Received (or issued) before the bid deadline'],
  R4: ['金额不少于应缴保证金', 'The amount is at least the deposit required'],
  R5: ['从投标人登记的基本账户转出', "Paid from the bidder's registered basic account"],
  R6: ['银行保函由基本账户开户行出具', "A bank guarantee comes from the basic account's bank"],
  R7: ['受益人、项目与编号一致且唯一', 'Beneficiary, section and number match and are unique'],
  R8: ['有效保函与现金保证金效力相同', 'A valid guarantee secures the bid as cash does'],
  R9: ['截止前撤回，5 个工作日内退还', 'Withdrawn before the deadline: refunded within 5 working days'],
  R10: ['截止后撤回，保证金可不予退还', 'Withdrawn after the deadline: may be forfeited'],
  R11: ['签订合同后 5 个工作日内退还', 'Refunded within 5 working days of the contract'],
  R12: ['仅因法定情形不予退还', 'Forfeited only for the listed reasons'],
  R13: ['按同期存款利息退还', 'Refunded with interest'],
  R15: ['未知子账户或不合规款项自动退回', 'Unknown sub-account or failing credit: returned automatically'],
  R16: ['终止招标后立即退还', 'Termination: refunded at once'],
  R17: ['只退回原付款账户', 'Refunded only to the account it came from'],
  R18: ['开标前不公开投标人信息', 'Nobody learns who bid before the opening'],
  R19: ['按法定节假日计算工作日', 'Working days follow the official calendar'],
  // 验真's own checks beside the rules: who signed it, which document, whether it still stands.
  signature: ['出函机构签名有效', "The issuer's signature is valid"],
  document: ['保函文件与出函机构签署的一致', 'The document is the one the issuer signed'],
  in_force: ['保函仍然有效', 'The guarantee is still in force'],
};

export interface RuleCheck {
  rule: string;
  ok: boolean;
  detail: string;
}

/** Each rule's result, passed or not, with the rule in plain words and the service's detail. */
export function RuleChecks({ checks }: { checks: readonly RuleCheck[] | null | undefined }) {
  const { t } = useLang();
  if (!checks?.length) return <Typography.Text type="secondary">{t('尚未校验', 'Not checked yet')}</Typography.Text>;
  return (
    <List
      size="small"
      dataSource={[...checks]}
      renderItem={(c) => {
        const words = ruleWords[c.rule];
        return (
          <List.Item>
            <div>
              <Typography.Text strong style={{ color: c.ok ? '#1b5e20' : '#a11d1d' }}>
                {c.ok ? '✓' : '✗'} {c.rule} {words ? t(words[0], words[1]) : ''}
              </Typography.Text>
              <div>
                <Typography.Text type="secondary">{c.detail}</Typography.Text>
              </div>
            </div>
          </List.Item>
        );
      }}
    />
  );
}
