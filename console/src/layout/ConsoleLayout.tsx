// The frame of every signed-in page: the role's menu, the language switch, who is signed in.
import { Button, Grid, Layout, Menu, Segmented, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { useLang } from '../i18n';
import { pagesFor, roleName } from '../pages/byRole';
import { useSession } from '../session';

export function ConsoleLayout() {
  const { user, signOut } = useSession();
  const { t, lang, setLang } = useLang();
  const navigate = useNavigate();
  const location = useLocation();
  const [collapsed, setCollapsed] = useState(false);
  const screens = Grid.useBreakpoint();
  if (!user) return <Navigate to="/console/signin" replace />;
  const pages = pagesFor(user.role);
  const current = location.pathname.replace(/^\/console\/?/, '').split('/')[0];
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider
        breakpoint="lg"
        collapsedWidth={0}
        collapsed={collapsed}
        onCollapse={setCollapsed}
        theme="light"
        width={220}
        zeroWidthTriggerStyle={{ top: 12, zIndex: 10 }}
        style={screens.lg ? undefined : { position: 'fixed', height: '100vh', zIndex: 20, boxShadow: collapsed ? undefined : '2px 0 8px rgba(0,0,0,0.15)' }}
      >
        <div style={{ padding: '16px 20px', fontWeight: 600, fontSize: 16 }}>bidbond</div>
        <nav aria-label={t('主菜单', 'Main menu')}>
          <Menu
            mode="inline"
            selectedKeys={[current]}
            items={pages.filter((p) => p.menu !== false).map((p) => ({ key: p.path.split('/')[0], label: t(p.title[0], p.title[1]) }))}
            onClick={({ key }) => {
              navigate(`/console/${key}`);
              // On a phone the menu lies over the page: it closes once a page is chosen.
              if (!screens.lg) setCollapsed(true);
            }}
          />
        </nav>
      </Layout.Sider>
      <Layout>
        {/* On a phone the header wraps under the menu's trigger instead of covering the page. */}
        <Layout.Header
          style={{ background: '#fff', height: 'auto', minHeight: 64, lineHeight: 1.5, padding: screens.md ? '12px 20px' : '10px 12px 10px 56px', display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center', justifyContent: 'space-between' }}
        >
          {screens.md && <Typography.Text strong>{t('投标保证金与电子保函', 'Bid security and e-guarantees')}</Typography.Text>}
          <Space wrap>
            <Segmented
              aria-label={t('语言', 'Language')}
              value={lang}
              onChange={(v) => setLang(v as 'zh' | 'en')}
              options={[
                { label: '中文', value: 'zh' },
                { label: 'EN', value: 'en' },
              ]}
            />
            <Tag color="blue">{roleName(user.role, t)}</Tag>
            <Typography.Text data-testid="signed-in-as">{user.login}</Typography.Text>
            <Button
              onClick={async () => {
                await signOut();
                navigate('/console/signin', { replace: true });
              }}
            >
              {t('退出', 'Sign out')}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ margin: screens.md ? 20 : 8 }}>
          <main>
            <Routes>
              {pages.map((p) => (
                <Route key={p.path} path={p.path} element={p.element} />
              ))}
              <Route path="*" element={<Navigate to={`/console/${pages[0].path}`} replace />} />
            </Routes>
          </main>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
