package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium (apt-get install chromium). With
// CI=true a missing browser fails the test; elsewhere it skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
	}
	t.Skip("chromium is not installed: apt-get install -y chromium")
	return ""
}

// TestBrowser drives headless Chromium through the web view as a person
// would: log in, browse, upload, edit metadata, meet a rule's denial, log
// out. Each step is saved as a screenshot (in the test's temporary
// directory, or in ARCA_SCREENSHOTS if set); a page that shows an error
// where none is expected fails the test.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	exe := chromium(t)
	z, base := startZone(t)
	shots := os.Getenv("ARCA_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first Run starts the browser; its context must not time out.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_ = z

	step := 0
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg) // 100: PNG
			if err != nil {
				return err
			}
			step++
			return os.WriteFile(filepath.Join(shots, fmt.Sprintf("%02d-%s.png", step, name)), buf, 0o644)
		})
	}
	// noError fails the test if the page shows an error.
	noError := func(what string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			n, err := chromedp.Evaluate[int](`document.querySelectorAll("#page-error").length`)(ctx, tg)
			if err != nil {
				return err
			}
			if n > 0 {
				msg, _ := chromedp.Text(chromedp.ID("page-error"))(ctx, tg)
				t.Errorf("%s: the page shows an error: %s", what, strings.TrimSpace(msg))
			}
			return nil
		})
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v (screenshots in %s)", what, err, shots)
		}
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("the text of #%s: %v", id, err)
		}
		return s
	}
	dir := t.TempDir()
	upload := filepath.Join(dir, "observations.csv")
	os.WriteFile(upload, []byte("station,temp\nA,12.5\n"), 0o644)
	scratch := filepath.Join(dir, "draft.tmp")
	os.WriteFile(scratch, []byte("scratch"), 0o644)

	run("login",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		shot("login"),
		chromedp.SendKeys(chromedp.ID("user"), "rods"),
		chromedp.SendKeys(chromedp.ID("password"), "rods-test-password"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("listing")),
		noError("after login"),
		shot("home"),
	)
	run("upload",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{upload}),
		chromedp.Click(chromedp.ID("upload")),
		chromedp.WaitVisible(chromedp.ID("notice")),
		noError("after upload"),
		shot("uploaded"),
	)
	if got := text("listing"); !strings.Contains(got, "observations.csv") {
		t.Fatalf("the listing after the upload lacks the file: %q", got)
	}
	run("object page and metadata",
		chromedp.Click(`//a[text()="observations.csv"]`),
		chromedp.WaitVisible(chromedp.ID("replicas")),
		noError("object page"),
		shot("object"),
		chromedp.SendKeys(chromedp.ID("meta-attribute"), "station"),
		chromedp.SendKeys(chromedp.ID("meta-value"), "A"),
		chromedp.Click(chromedp.ID("meta-submit")),
		chromedp.WaitVisible(chromedp.ID("notice")),
		noError("after the metadata edit"),
		shot("metadata"),
	)
	if got := text("metadata"); !strings.Contains(got, "station") {
		t.Errorf("the metadata table after the edit: %q", got)
	}
	run("search",
		chromedp.Click(`//a[text()="Search"]`),
		chromedp.WaitVisible(chromedp.ID("search-form")),
		chromedp.SendKeys(chromedp.ID("s-attribute"), "station"),
		chromedp.SendKeys(chromedp.ID("s-value"), "A"),
		chromedp.Click(chromedp.ID("search")),
		chromedp.WaitVisible(chromedp.ID("results")),
		noError("search"),
		shot("search"),
	)
	if got := text("results"); !strings.Contains(got, "/tempZone/home/rods/observations.csv") {
		t.Errorf("search results: %q", got)
	}
	// A rule denies the upload of a temporary file: the page says which
	// rule and why.
	run("denied upload",
		chromedp.Click(`//a[text()="Browse"]`),
		chromedp.WaitVisible(chromedp.ID("upload-form")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{scratch}),
		chromedp.Click(chromedp.ID("upload")),
		chromedp.WaitVisible(chromedp.ID("page-error")),
		shot("denied"),
	)
	if rule, msg := text("denying-rule"), text("page-error"); rule != "no-tmp-files" || !strings.Contains(msg, "temporary files are not archived") {
		t.Errorf("the denial: rule %q, message %q", rule, msg)
	}
	run("audit",
		chromedp.Navigate(base+"/admin/audit?rule=no-tmp-files"),
		chromedp.WaitVisible(chromedp.ID("audit")),
		noError("audit"),
		shot("audit"),
	)
	if got := text("audit"); !strings.Contains(got, "deny") {
		t.Errorf("the audit lacks the denial: %q", got)
	}
	run("admin pages",
		chromedp.Navigate(base+"/admin/rules"),
		chromedp.WaitVisible(chromedp.ID("rules")),
		noError("rules"),
		shot("rules"),
		chromedp.Navigate(base+"/admin/jobs"),
		chromedp.WaitVisible(chromedp.ID("jobs")),
		noError("jobs"),
		chromedp.Navigate(base+"/admin/resources"),
		chromedp.WaitVisible(chromedp.ID("resources")),
		noError("resources"),
		shot("resources"),
	)
	// Keyboard: the skip link is the first stop of Tab.
	run("keyboard",
		chromedp.Navigate(base+"/search"),
		chromedp.WaitVisible(chromedp.ID("search-form")),
		chromedp.KeyEvent("\t"),
	)
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.textContent`))
	if err != nil || strings.TrimSpace(focused) != "Skip to content" {
		t.Errorf("the first Tab stop is %q (%v), want the skip link", focused, err)
	}
	run("logout",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		noError("after logout"),
		shot("logged-out"),
		chromedp.Navigate(base+"/admin/rules"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	)
	t.Logf("screenshots in %s", shots)
}
