// Command mkdeb builds PiCloud's Debian package for one architecture from a
// built binary, with nfpm as a library. The package is reproducible: every
// timestamp is SOURCE_DATE_EPOCH (the last commit's time, set by the
// Makefile), so the same inputs give the same bytes.
//
//	go run ./packaging/cmd/mkdeb -arch arm64 -binary bin/linux-arm64/picloud -version 0.1.0 -out dist
//	go run ./packaging/cmd/mkdeb -print-version -version v0.1.0-3-gabc1234   # 0.1.0+git3.abc1234
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
)

// maintainer is the Maintainer field and the changelog's signature.
const maintainer = "PiCloud authors <maintainers@picloud.dev>"

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "mkdeb: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	arch := flag.String("arch", "", "Debian architecture: amd64, arm64 or armhf")
	binary := flag.String("binary", "", "the picloud binary built for that architecture")
	version := flag.String("version", "", "package version (a git describe output is made Debian-valid)")
	out := flag.String("out", "dist", "output directory")
	root := flag.String("root", ".", "the repository's root")
	printVersion := flag.Bool("print-version", false, "print the Debian version that -version becomes, and exit")
	flag.Parse()
	if *printVersion && *version != "" {
		fmt.Println(debianVersion(*version))
		return nil
	}
	if *arch == "" || *binary == "" || *version == "" {
		flag.Usage()
		return errors.New("-arch, -binary and -version are required")
	}
	mtime, err := sourceDate()
	if err != nil {
		return err
	}
	ver := debianVersion(*version)
	gen, err := os.MkdirTemp("", "mkdeb")
	if err != nil {
		return err
	}
	defer os.RemoveAll(gen)

	changelog := filepath.Join(gen, "changelog.gz")
	if err := writeGzip(changelog, []byte(changelogText(ver, mtime))); err != nil {
		return err
	}
	man := filepath.Join(gen, "picloud.1.gz")
	page, err := os.ReadFile(filepath.Join(*root, "packaging/debian/picloud.1"))
	if err != nil {
		return err
	}
	if err := writeGzip(man, page); err != nil {
		return err
	}

	r := func(p string) string { return filepath.Join(*root, p) }
	doc := "/usr/share/doc/picloud/"
	contents := files.Contents{
		file(*binary, "/usr/bin/picloud", 0o755, mtime),
		file(r("systemd/picloud.service"), "/lib/systemd/system/picloud.service", 0o644, mtime),
		file(r("systemd/picloud.socket"), "/lib/systemd/system/picloud.socket", 0o644, mtime),
		file(r("systemd/picloud.sysusers"), "/usr/lib/sysusers.d/picloud.conf", 0o644, mtime),
		file(r("packaging/debian/copyright"), doc+"copyright", 0o644, mtime),
		file(changelog, doc+"changelog.gz", 0o644, mtime),
		file(r("README.md"), doc+"README.md", 0o644, mtime),
		file(r("docs/configuration.md"), doc+"configuration.md", 0o644, mtime),
		file(r("docs/install.md"), doc+"install.md", 0o644, mtime),
		file(man, "/usr/share/man/man1/picloud.1.gz", 0o644, mtime),
		file(r("packaging/debian/lintian-overrides"), "/usr/share/lintian/overrides/picloud", 0o644, mtime),
	}
	conf := file(r("packaging/debian/picloud.conf"), "/etc/picloud/picloud.conf", 0o644, mtime)
	conf.Type = files.TypeConfigNoReplace
	contents = append(contents, conf)

	info := &nfpm.Info{
		Name:     "picloud",
		Arch:     *arch,
		Platform: "linux",
		Version:  ver,
		// The version is already Debian's: keep nfpm from reading it as semver.
		VersionSchema: "none",
		Section:       "net",
		Priority:      "optional",
		Maintainer:    maintainer,
		Homepage:      "https://picloud.dev",
		License:       "Apache-2.0",
		Description: "serverless scripts on a single-board computer\n" +
			"PiCloud runs small JavaScript or TypeScript handlers, written in the\n" +
			"Cloudflare Workers style, bound to HTTP routes, on a Raspberry Pi. It is\n" +
			"one daemon, run by systemd, storing everything in PostgreSQL.",
		MTime: mtime,
		Overridables: nfpm.Overridables{
			Depends:  []string{"postgresql", "systemd"},
			Contents: contents,
			Deb:      nfpm.Deb{Arch: *arch, Compression: "xz"},
			Scripts: nfpm.Scripts{
				PostInstall: r("packaging/debian/postinst"),
				PreRemove:   r("packaging/debian/prerm"),
				PostRemove:  r("packaging/debian/postrm"),
			},
		},
	}
	info = nfpm.WithDefaults(info)
	if err := info.Validate(); err != nil {
		return fmt.Errorf("package description: %w", err)
	}
	pkg, err := nfpm.Get("deb")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	info.Target = filepath.Join(*out, pkg.ConventionalFileName(info))
	var buf bytes.Buffer
	if err := pkg.Package(info, &buf); err != nil {
		return fmt.Errorf("build %s: %w", info.Target, err)
	}
	if err := os.WriteFile(info.Target, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Println(info.Target)
	return nil
}

func file(src, dst string, mode os.FileMode, mtime time.Time) *files.Content {
	return &files.Content{Source: src, Destination: dst,
		FileInfo: &files.ContentFileInfo{Mode: mode, MTime: mtime, Owner: "root", Group: "root"}}
}

// sourceDate is SOURCE_DATE_EPOCH, required so that two builds match.
func sourceDate() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Time{}, errors.New("SOURCE_DATE_EPOCH is not set (the Makefile sets it to the last commit's time)")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
	}
	return time.Unix(n, 0).UTC(), nil
}

// debianOK is a version that starts like a release number (1.2, 0.3.1~rc1).
var debianOK = regexp.MustCompile(`^[0-9]+\.[0-9][A-Za-z0-9.+~]*$`)

// debianVersion makes a git describe output a native Debian version:
// v1.2.3 → 1.2.3; v1.2.3-4-gabc → 1.2.3+git4.gabc; abc1234 (no tag) →
// 0~gitabc1234; -dirty → +dirty.
func debianVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	v = strings.ReplaceAll(v, "-dirty", "+dirty")
	if m := regexp.MustCompile(`^(.*)-([0-9]+)-g([0-9a-f]+)(.*)$`).FindStringSubmatch(v); m != nil {
		v = m[1] + "+git" + m[2] + "." + m[3] + m[4]
	}
	if !debianOK.MatchString(v) {
		v = "0~git" + regexp.MustCompile(`[^A-Za-z0-9.+~]`).ReplaceAllString(v, ".")
	}
	return v
}

// changelogText is a one-entry Debian changelog for a native package.
func changelogText(version string, date time.Time) string {
	return fmt.Sprintf("picloud (%s) unstable; urgency=medium\n\n  * PiCloud %s.\n\n -- %s  %s\n",
		version, version, maintainer, date.Format(time.RFC1123Z))
}

// writeGzip writes data gzip-compressed at the best level, with no name or
// timestamp in the header (as gzip -9n does).
func writeGzip(path string, data []byte) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
