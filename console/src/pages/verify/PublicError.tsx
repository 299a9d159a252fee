import { Alert } from 'antd';
import { ApiFailure } from '../../api/client';
import { ErrorAlert } from '../../components';
import { useLang } from '../../i18n';
import { FileTooLarge } from './api';

/** Errors in the words a member of the public needs; anything else as the API said it. */
export function PublicError({ error }: { error: unknown }) {
  const { t } = useLang();
  if (!error) return null;
  if (error instanceof FileTooLarge || (error instanceof ApiFailure && error.status === 413)) {
    const mb = Math.round((error instanceof FileTooLarge ? error.bytesMax : 10 * 1024 * 1024) / 1024 / 1024);
    return <Alert type="error" role="alert" showIcon title={t(`文件过大：凭证不超过 ${mb} MB，请选择原始 PDF 文件。`, `The file is too large: vouchers are at most ${mb} MB. Choose the original PDF.`)} />;
  }
  if (error instanceof ApiFailure && error.status === 429) {
    return <Alert type="warning" role="alert" showIcon title={t('核验过于频繁，请一分钟后再试。', 'Too many checks from here; try again in a minute.')} />;
  }
  return <ErrorAlert error={error} />;
}
