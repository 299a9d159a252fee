// The frame of the public verification pages, in the look of the sign-in page: one card on the
// grey background, the page's single h1 with the language switch, and the ways between the pages.
// Nothing here needs a session: whoever holds a voucher or a guarantee may check it.
import { Card, Grid, Segmented, Space, Typography } from 'antd';
import { useEffect, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useLang, type Lang } from '../../i18n';

export type VerifyPageName = 'upload' | 'voucher' | 'guarantee';

/** Wide enough for a voucher's facts side by side on a desk; a phone gets its whole width. */
const cardWidthMaxPx = 760;

export function PublicFrame({ title, current, children }: { title: string; current: VerifyPageName; children: ReactNode }) {
  const { t, lang, setLang } = useLang();
  const screens = Grid.useBreakpoint();
  const narrow = !screens.sm;
  useEffect(() => {
    document.title = `${title} · bidbond`;
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  }, [title, lang]);
  return (
    <>
      <main style={{ minHeight: '100vh', display: 'flex', justifyContent: 'center', alignItems: 'flex-start', background: '#f0f2f5', padding: narrow ? 8 : 24 }}>
        <Card style={{ width: cardWidthMaxPx, maxWidth: '100%' }} styles={{ body: { padding: narrow ? 16 : 24 } }}>
          <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
            <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'flex-start', gap: 12, flexWrap: 'wrap' }}>
              <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
                {title}
              </Typography.Title>
              <Segmented
                aria-label={t('语言', 'Language')}
                value={lang}
                onChange={(v) => setLang(v as Lang)}
                options={[
                  { label: '中文', value: 'zh' },
                  { label: 'EN', value: 'en' },
                ]}
              />
            </div>
            {children}
            <nav aria-label={t('验真页面', 'Verification pages')} style={{ borderTop: '1px solid #e8e8e8', paddingTop: 12 }}>
              <Space wrap size="large">
                {current !== 'upload' && <Link to="/verify">{t('凭证验真（上传 PDF）', 'Verify a voucher (PDF)')}</Link>}
                {current !== 'guarantee' && <Link to="/verify/guarantee">{t('保函验真', 'Verify a guarantee')}</Link>}
                <Link to="/console/signin">{t('工作人员登录', 'Staff sign-in')}</Link>
              </Space>
            </nav>
          </Space>
        </Card>
      </main>
    </>
  );
}
