#!/usr/bin/env python3
"""Drive a real, headless Thunderbird over Marionette for thunderbird.sh.

Starts `thunderbird --headless --marionette --remote-allow-system-access`
on a prepared profile (module in pkcs11.txt, test CA trusted, a Local
Folders mbox), then, in Thunderbird's chrome context:

  1. replaces the prompter (@mozilla.org/prompter;1) by one whose
     promptPassword answers the PIN (and counts every prompt), logs in to
     the token(s) with nsIPK11Token.login(false);
  2. opens every message of the plan through the real display path
     (tabmail.openTab("mailMessageTab", {messageURI})), waits for the
     about:message window's "smimeprocessed" event and reads the body text
     and the S/MIME header icons (message-encrypted-ok / -signed-ok);
  3. composes and sends messages through a real compose window (S/MIME
     signing and encryption toggled as a user does, SendMessage()) to the
     SMTP sink on 127.0.0.1.

Writes a JSON report (--report) and exits non-zero when a check fails.
Thunderbird starts once for the whole run and is killed at the end.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from marionette import Marionette, MarionetteError  # noqa: E402

JS_PROMPTER = r"""
const [pins] = arguments;   // token name -> PIN
const done = arguments[arguments.length - 1];
const st = window.kwState || (window.kwState = { prompts: [], alerts: [] });
const prompt = {
  QueryInterface: ChromeUtils.generateQI(["nsIPrompt"]),
  promptPassword(title, text, pass) {
    // PSM's text names the token: answer with that token's PIN only
    const t = String(text);
    const name = Object.keys(pins).find(n => t.includes(n));
    st.prompts.push(t.slice(0, 200) + (name ? "" : " (unanswered)"));
    if (!name) return false;
    pass.value = pins[name];
    return true;
  },
  alert(title, text) { st.alerts.push(String(text).slice(0, 300)); },
  alertCheck(title, text) { st.alerts.push(String(text).slice(0, 300)); },
  confirm(title, text) { st.alerts.push("confirm: " + String(text).slice(0, 300)); return false; },
  confirmCheck(title, text) { st.alerts.push("confirm: " + String(text).slice(0, 300)); return false; },
  confirmEx(title, text) { st.alerts.push("confirmEx: " + String(text).slice(0, 300)); return 1; },
  prompt(title, text) { st.alerts.push("prompt: " + String(text).slice(0, 300)); return false; },
  promptUsernameAndPassword() { return false; },
  select() { return false; },
};
const factory = {
  QueryInterface: ChromeUtils.generateQI(["nsIFactory", "nsIPromptFactory"]),
  createInstance(iid) { return this.QueryInterface(iid); },
  getPrompt(win, iid) { return prompt.QueryInterface(iid); },
};
const reg = Components.manager.QueryInterface(Ci.nsIComponentRegistrar);
reg.registerFactory(Components.ID("{5c3f0d52-8b0e-4a63-9f1e-6b7c2a9e4d11}"),
  "keyward test prompter", "@mozilla.org/prompter;1", factory);
// Modal dialogs through the cached prompt service would wait forever in a
// headless run: record them instead.
for (const m of ["alert", "alertCheck", "confirm", "confirmEx", "confirmCheck", "prompt",
                 "asyncAlert", "asyncConfirmEx"]) {
  try {
    Services.prompt[m] = (...a) => {
      st.alerts.push(m + ": " + String(a[2] || a[1]).slice(0, 300));
      return m.startsWith("confirm") ? (m == "confirmEx" ? 1 : false) : undefined;
    };
  } catch (e) {}
}
done("ok");
"""

JS_LOGIN = r"""
const [names] = arguments;
const done = arguments[arguments.length - 1];
(async () => {
  const moddb = Cc["@mozilla.org/security/pkcs11moduledb;1"].getService(Ci.nsIPKCS11ModuleDB);
  const out = [];
  for (const mod of await moddb.listModules()) {
    for (const slot of mod.slots) {
      let t = null;
      try { t = slot.getToken(); } catch (e) { continue; }
      if (!t || !names.some(n => t.tokenName.includes(n))) continue;
      let err = null;
      try { t.login(false); } catch (e) { err = String(e); }
      out.push({ name: t.tokenName, loggedIn: t.isLoggedIn, err });
    }
  }
  done({ tokens: out, prompts: window.kwState.prompts.length });
})().catch(e => done({ error: String(e) }));
"""

JS_FOLDER = r"""
const [name, count, timeoutMs] = arguments;
const done = arguments[arguments.length - 1];
(async () => {
  const root = MailServices.accounts.localFoldersServer.rootFolder;
  const folder = root.getChildNamed(name);
  const end = Date.now() + timeoutMs;
  let n = 0;
  while (Date.now() < end) {
    try {
      folder.updateFolder(null);
      n = [...folder.messages].length;
    } catch (e) {}
    if (n >= count) break;
    await new Promise(r => setTimeout(r, 200));
  }
  const msgs = [...folder.messages].map(h => ({ subject: h.mime2DecodedSubject,
    uri: folder.getUriForMsg(h) }));
  done({ count: n, msgs });
})().catch(e => done({ error: String(e) }));
"""

JS_OPEN = r"""
const [uri, want, timeoutMs] = arguments;
const done = arguments[arguments.length - 1];
(async () => {
  const tabmail = window.document.getElementById("tabmail");
  const tab = tabmail.openTab("mailMessageTab", { messageURI: uri, background: false });
  const end = Date.now() + timeoutMs;
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  let win = null;
  while (Date.now() < end) {
    win = tab.chromeBrowser && tab.chromeBrowser.contentWindow;
    if (win && win.document.readyState == "complete" && win.getMessagePaneBrowser) break;
    await sleep(100);
  }
  let processed = false;
  win.addEventListener("smimeprocessed", () => { processed = true; });
  const read = () => {
    const doc = win.document;
    const b = win.getMessagePaneBrowser();
    const body = b && b.contentDocument && b.contentDocument.body ?
      b.contentDocument.body.textContent : "";
    const icon = id => {
      const e = doc.getElementById(id);
      if (!e || e.hidden) return null;
      const m = /message-(?:encrypted|signed)-([a-z]+)\.svg/.exec(e.getAttribute("src") || "");
      return m ? m[1] : "?";
    };
    return { body: body.slice(0, 4000), encrypted: icon("encryptedHdrIcon"),
      signed: icon("signedHdrIcon"),
      tech: (doc.getElementById("cryptoBox") || { getAttribute: () => null }).getAttribute("tech") };
  };
  let r = read();
  while (Date.now() < end) {
    r = read();
    const bodyOk = r.body.includes(want.body);
    if (bodyOk && (processed || (!want.encrypted && !want.signed)) &&
        (r.encrypted || !want.encrypted) && (r.signed || !want.signed)) break;
    await sleep(150);
  }
  r.processed = processed;
  r.alerts = window.kwState.alerts.splice(0);
  r.prompts = window.kwState.prompts.length;
  tabmail.closeTab(tab);
  done(r);
})().catch(e => done({ error: String(e) + " " + (e.stack || "") }));
"""

JS_IDENTITY = r"""
const [p] = arguments;
const done = arguments[arguments.length - 1];
(async () => {
  const certdb = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
  const find = email => {
    for (const c of certdb.getCerts()) {
      if (c.containsEmailAddress(email) && String(c.tokenName).includes(p.token))
        return c;
    }
    return null;
  };
  const sc = find(p.sign_email), ec = find(p.enc_email);
  if (!sc || !ec) { done({ error: "token certificates not found: " + !!sc + " " + !!ec }); return; }
  // the identity of user.js (Local Folders account, SMTP sink on loopback)
  const id = MailServices.accounts.getIdentity(p.key);
  id.setUnicharAttribute("signing_cert_name", sc.displayName);
  id.setCharAttribute("signing_cert_dbkey", sc.dbKey);
  id.setUnicharAttribute("encryption_cert_name", ec.displayName);
  id.setCharAttribute("encryption_cert_dbkey", ec.dbKey);
  window.kwIdentity = id;
  // the encryption certificate as the composer will check it
  const verify = c => new Promise(resolve => {
    certdb.asyncVerifyCertAtTime(c, Ci.nsIX509CertDB.verifyUsageEmailRecipient,
      Ci.nsIX509CertDB.FLAG_LOCAL_ONLY, "", Math.floor(Date.now() / 1000), [],
      { verifyCertFinished: resolve });
  });
  const ev = await verify(ec);
  done({ sign_cert: sc.displayName, enc_cert: ec.displayName, identity: id.key, email: id.email,
    enc_verify: ev });
})().catch(e => done({ error: String(e) + " " + (e.stack || "") }));
"""

JS_SEND = r"""
const [m, timeoutMs] = arguments;
const done = arguments[arguments.length - 1];
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const end = Date.now() + timeoutMs;
  const fields = Cc["@mozilla.org/messengercompose/composefields;1"]
    .createInstance(Ci.nsIMsgCompFields);
  fields.to = m.to;
  fields.subject = m.subject;
  fields.body = m.body + "\r\n";
  const params = Cc["@mozilla.org/messengercompose/composeparams;1"]
    .createInstance(Ci.nsIMsgComposeParams);
  params.composeFields = fields;
  params.identity = window.kwIdentity;
  params.format = Ci.nsIMsgCompFormat.PlainText;
  params.type = Ci.nsIMsgCompType.New;
  const before = new Set([...Services.wm.getEnumerator("msgcompose")]);
  MailServices.compose.OpenComposeWindowWithParams(null, params);
  let win = null;
  while (Date.now() < end && !win) {
    for (const w of Services.wm.getEnumerator("msgcompose"))
      if (!before.has(w)) win = w;
    await sleep(100);
  }
  if (!win) { done({ error: "no compose window" }); return; }
  while (Date.now() < end && !(win.gLoadingComplete && win.gMsgCompose)) await sleep(100);
  if (!win.gLoadingComplete) { done({ error: "compose window did not load" }); return; }
  if (win.gSelectedTechnologyIsPGP) win.gSelectedTechnologyIsPGP = false;
  if (!!win.gSendSigned != !!m.sign) win.toggleGlobalSignMessage();
  if (!!win.gSendEncrypted != !!m.encrypt) win.toggleEncryptMessage();
  // wait for the composer's own recipient certificate lookups
  if (m.encrypt) {
    const rc = m.to.split(",").map(x => x.trim());
    while (Date.now() < end && !rc.every(e => win.gSMFields && win.gSMFields.haveValidCertForEmail(e))) {
      try { win.checkEncryptionState(); } catch (e) {}
      await sleep(200);
    }
  }
  const state = { signed: win.gSendSigned, encrypted: win.gSendEncrypted,
    certs: m.to.split(",").map(x => !!(win.gSMFields && win.gSMFields.haveValidCertForEmail(x.trim()))) };
  let closed = false;
  win.addEventListener("unload", () => { closed = true; });
  const sent = new Promise(resolve => {
    win.addEventListener("aftersend", () => resolve("aftersend"), { once: true });
  });
  win.SendMessage();
  while (Date.now() < end && !closed) await sleep(150);
  const r = { state, closed, alerts: window.kwState.alerts.splice(0),
    prompts: window.kwState.prompts.length };
  if (!closed) {
    // what is it waiting for: every window, the compose notifications
    r.windows = [...Services.wm.getEnumerator(null)].map(w => {
      const info = w.document.getElementById("infoBody");
      return String(w.location) + " | " + (w.document.title || "") +
        (info ? " | " + info.textContent.slice(0, 500) : "");
    });
    try {
      r.notes = [...win.gComposeNotification.allNotifications].map(n =>
        n.getAttribute("value") + ": " + String(n.messageText ? n.messageText.textContent : ""));
    } catch (e) { r.notes = String(e); }
    try { win.close(); } catch (e) {}
  }
  done(r);
})().catch(e => done({ error: String(e) + " " + (e.stack || "") }));
"""


def log(msg):
    print("[thunderbird.py] %s" % msg, file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", required=True)
    ap.add_argument("--plan", required=True,
                    help="JSON: port, pins (token name -> PIN), folder, read, send, identity")
    ap.add_argument("--report", required=True)
    ap.add_argument("--timeout", type=float, default=150, help="whole run, seconds")
    ap.add_argument("--log", default=None, help="Thunderbird's stdout/stderr")
    a = ap.parse_args()
    plan = json.load(open(a.plan))
    t_start = time.monotonic()
    deadline = t_start + a.timeout
    env = dict(os.environ, MOZ_HEADLESS="1", MOZ_CRASHREPORTER_DISABLE="1",
               MOZ_DISABLE_AUTO_SAFE_MODE="1")
    tb_log = open(a.log or os.devnull, "wb")
    cmd = [plan.get("thunderbird", "thunderbird"), "--headless", "--marionette",
           "--remote-allow-system-access", "-profile", a.profile, "--no-remote"]
    proc = subprocess.Popen(cmd, stdout=tb_log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    report = {"read": [], "send": [], "failures": []}
    fail = report["failures"].append
    m = Marionette(plan["port"], timeout=max(10.0, a.timeout))
    try:
        m.connect(deadline)
        m.session()
        m.chrome()
        m.script_timeout(60000)
        report["t_ready"] = round(time.monotonic() - t_start, 1)
        log("Marionette up after %.1f s" % report["t_ready"])
        m.run(JS_PROMPTER, [plan["pins"]])
        r = m.run(JS_LOGIN, [list(plan["pins"])])
        report["login"] = r
        log("login: %s" % json.dumps(r))
        toks = r.get("tokens", []) if isinstance(r, dict) else []
        if len(toks) != len(plan["pins"]) or not all(t["loggedIn"] for t in toks):
            fail("token login through the prompter failed: %s" % json.dumps(r))
        if isinstance(r, dict) and r.get("prompts", 0) != len(plan["pins"]):
            fail("expected one PIN prompt per token, saw %s" % r.get("prompts"))
        r = m.run(JS_FOLDER, [plan["folder"], len(plan["read"]), 30000])
        if not isinstance(r, dict) or "error" in r:
            raise MarionetteError("folder: %r" % (r,))
        uris = {x["subject"]: x["uri"] for x in r["msgs"]}
        log("folder %s: %d messages" % (plan["folder"], r["count"]))
        for want in plan["read"]:
            t0 = time.monotonic()
            uri = uris.get(want["subject"])
            if uri is None:
                fail("message %r not in the folder" % want["subject"])
                continue
            got = m.run(JS_OPEN, [uri, want, 30000])
            got["subject"] = want["subject"]
            got["seconds"] = round(time.monotonic() - t0, 2)
            report["read"].append(got)
            ok = (isinstance(got, dict) and "error" not in got and want["body"] in got["body"]
                  and got.get("encrypted") == want.get("encrypted")
                  and got.get("signed") == want.get("signed"))
            log("%s %r: encrypted=%s signed=%s body=%s (%.1f s)%s" % (
                "ok" if ok else "FAIL", want["subject"], got.get("encrypted"), got.get("signed"),
                want["body"] in got.get("body", ""), got["seconds"],
                "" if ok else " " + json.dumps(got)[:1500]))
            if not ok:
                fail("reading %r: want encrypted=%s signed=%s and the body; got %s" % (
                    want["subject"], want.get("encrypted"), want.get("signed"),
                    json.dumps(got)[:800]))
        if plan.get("send"):
            r = m.run(JS_IDENTITY, [plan["identity"]])
            report["identity"] = r
            log("identity: %s" % json.dumps(r))
            if "error" in r:
                fail("identity: %s" % r["error"])
            else:
                for s in plan["send"]:
                    t0 = time.monotonic()
                    got = m.run(JS_SEND, [s, 45000])
                    got["subject"] = s["subject"]
                    got["seconds"] = round(time.monotonic() - t0, 2)
                    report["send"].append(got)
                    log("sent %r: %s" % (s["subject"], json.dumps(got)[:600]))
                    if "error" in got or not got.get("closed"):
                        fail("sending %r: %s" % (s["subject"], json.dumps(got)[:600]))
    except (MarionetteError, OSError, ValueError) as e:
        fail("Marionette: %s" % e)
    finally:
        report["t_total"] = round(time.monotonic() - t_start, 1)
        try:
            m.close()
        except OSError:
            pass
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        with open(a.report, "w") as f:
            json.dump(report, f, indent=1)
    for f in report["failures"]:
        print("FAIL: [thunderbird.py] " + f, file=sys.stderr)
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
