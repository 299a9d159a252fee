import { App as AntApp, ConfigProvider, Spin } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { lazy, Suspense, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Outlet, Route, Routes } from 'react-router';
import { NoRows } from './components/NoRows';
import { LangProvider, useLang } from './i18n';
import { SessionProvider, useSession } from './session';

// A phone opening a voucher's QR code loads the verification pages, not the whole console.
const ConsoleLayout = lazy(() => import('./layout/ConsoleLayout').then((m) => ({ default: m.ConsoleLayout })));
const SignIn = lazy(() => import('./pages/SignIn').then((m) => ({ default: m.SignIn })));
const VerifyPages = lazy(() => import('./pages/verify'));

function Loading() {
  return <Spin style={{ display: 'block', margin: '20vh auto' }} />;
}

function RequireSession({ children }: { children: ReactNode }) {
  const { user } = useSession();
  if (user === undefined) return <Loading />;
  if (user === null) return <Navigate to="/console/signin" replace />;
  return children;
}

/** Ant Design's default secondary text and placeholders (45% black), its error red and the
 *  palettes of its tags fall short of WCAG AA's 4.5:1 on white; these are the nearest colours
 *  that pass. A tag writes its text in its palette's 7th shade on the 1st: seeding a palette with
 *  its 8th shade moves the 7th past 4.5:1. */
const theme = {
  token: {
    colorPrimary: '#1f4e8c',
    colorLink: '#1f4e8c',
    colorTextSecondary: '#595959',
    colorTextDescription: '#595959',
    colorTextTertiary: '#595959',
    colorTextPlaceholder: 'rgba(0, 0, 0, 0.6)',
    colorError: '#cf1322',
    colorErrorText: '#cf1322',
    colorInfo: '#0958d9',
    green: '#237804',
    orange: '#ad4e00',
    gold: '#ad6800',
    volcano: '#ad2102',
    cyan: '#006d75',
    lime: '#5b8c00',
  },
};

function Localised({ children }: { children: ReactNode }) {
  const { lang } = useLang();
  return (
    <ConfigProvider locale={lang === 'zh' ? zhCN : enUS} theme={theme} renderEmpty={() => <NoRows />} button={{ autoInsertSpace: false }}>
      <AntApp>{children}</AntApp>
    </ConfigProvider>
  );
}

export function App() {
  return (
    <LangProvider>
      <Localised>
        <BrowserRouter>
          <Suspense fallback={<Loading />}>
            <Routes>
              <Route path="/verify" element={<VerifyPages page="upload" />} />
              <Route path="/verify/guarantee" element={<VerifyPages page="guarantee" />} />
              <Route path="/verify/:voucherId" element={<VerifyPages page="voucher" />} />
              <Route
                element={
                  <SessionProvider>
                    <Outlet />
                  </SessionProvider>
                }
              >
                <Route path="/console/signin" element={<SignIn />} />
                <Route
                  path="/console/*"
                  element={
                    <RequireSession>
                      <ConsoleLayout />
                    </RequireSession>
                  }
                />
              </Route>
              <Route path="*" element={<Navigate to="/console/" replace />} />
            </Routes>
          </Suspense>
        </BrowserRouter>
      </Localised>
    </LangProvider>
  );
}
