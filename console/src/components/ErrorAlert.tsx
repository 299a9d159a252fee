import { Alert } from 'antd';
import { ApiFailure } from '../api/client';
import { useLang } from '../i18n';

/** An error as the API said it: its code, the rule broken, its message. */
export function ErrorAlert({ error }: { error: unknown }) {
  const { t } = useLang();
  if (!error) return null;
  if (error instanceof ApiFailure) {
    const title =
      error.status === 404
        ? t('未找到，或您无权查看。', 'Not found, or not yours to see.')
        : error.status === 403
          ? t('操作被拒绝。', 'Refused.')
          : `${t('请求失败', 'Request failed')} (${error.status})`;
    return <Alert type="error" role="alert" showIcon title={title} description={`${error.rule ? `${error.rule} · ` : ''}${error.code}: ${error.message}`} />;
  }
  return <Alert type="error" role="alert" showIcon title={t('网络错误，请稍后再试。', 'Network error; try again.')} />;
}
