// binome — « Renvoyer l'accusé »: the script of an Airtable automation (action « Exécuter un
// script »). A coordinator ticks « Renvoyer l'accusé » on a volunteer (« Bénévoles ») or a structure
// (« Structures »); this asks the `reconcile` function to send the acknowledgement again. binome
// unticks the box in the same write that records the new send, so however often the automation
// fires (a double tick, a retried run) one more email goes out, no more; tick again for another.
// Installation and trigger: deploy/airtable/README.md.
//
// Input variables (« Ajouter une variable d'entrée » in the action's left panel):
//   recordId     the record whose box was ticked: « Airtable record ID » of the trigger's record
//   functionUrl  the function's URL, e.g. https://europe-west1-<projet>.cloudfunctions.net/reconcile
//   secret       the value of AUTOMATION_SECRET
//   base         only when binome runs on several bases: this base's key in BINOME_BASES (e.g. idf)
//
// Why the secret is an input variable: the function refuses any call without it (its URL is
// public), and an automation script has nowhere else to keep it. Input values stay out of the
// script's text, so the script can be reviewed and pasted without it; but anyone with editor
// access to the base can open the automation and read them, and the same secret runs binome's
// scheduled jobs: treat editor access as access to it, and rotate it when an editor leaves.
// To rotate: put the new value in Secret Manager and redeploy the functions (deploy/), then paste
// it in the « secret » input of the every binome automation. Runs in between fail red
// (« secret invalide ») and change nothing: trigger them again once both sides hold the new value.

const { recordId, functionUrl, secret, base } = input.config();
if (!recordId) throw new Error("Entrée « recordId » vide : choisissez « Airtable record ID » de la fiche déclencheuse.");

const answer = await callBinome(functionUrl, secret, { resend: recordId, ...(base ? { base } : {}) });
output.set("statut", answer.statut);
output.set("detail", answer.detail);

// The same lines close every binome script: Airtable scripts cannot import one another.
// A failure throws, so the run shows red in the automation's history with binome's own message.
async function callBinome(url, secret, body) {
  if (!url || !secret) {
    throw new Error("Configuration incomplète : renseignez les entrées « functionUrl » et « secret » de l'action.");
  }
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${secret}` },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(`binome injoignable (${url}) : ${error.message}. Réessayez plus tard.`);
  }
  const text = await response.text();
  let answer = {};
  try {
    answer = JSON.parse(text);
  } catch {
    // not binome's JSON (a proxy's or the platform's error page): its first words are shown below
  }
  if (!response.ok) {
    throw new Error(`binome a répondu ${response.status} : ${answer.erreur ?? text.slice(0, 200)}`);
  }
  return answer;
}
