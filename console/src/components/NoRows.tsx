import { useLang } from '../i18n';

/** What an empty table or list says, readable (Ant Design's default grey is under 4.5:1). */
export function NoRows({ text }: { text?: string }) {
  const { t } = useLang();
  return <div style={{ color: 'rgba(0, 0, 0, 0.65)', padding: 8 }}>{text ?? t('暂无数据', 'Nothing here')}</div>;
}
