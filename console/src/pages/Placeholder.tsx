import { Empty } from 'antd';
import { useLang } from '../i18n';

export function Placeholder() {
  const { t } = useLang();
  return <Empty description={t('暂无内容', 'Nothing here yet')} />;
}
