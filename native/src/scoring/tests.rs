use super::*;
use crate::value::{event_slot, EventView};
use serde_json::Value as Json;

/// Scenarios run through the Python reference (`gather` + `score` with the real
/// `ProfileBook`, `orjson.dumps(decision_line(...))`): each step adds a signal to the
/// profiles, applies a verdict, lists an entity's active signals, counts the book's
/// entities, or decides a transaction (its `view` is `cel_view(project(txn))`); the
/// `expect`ed outputs are the reference's.
const FIXTURE: &str = r###"{"default_rules":[{"id":"score.large_amount","code":"LARGE_AMOUNT","description":"A single outgoing transaction of 20000 or more.","points":25,"mode":"active","when":"event.kind == \"transaction\" && event.type != \"top_up\" && event.type != \"refund\" && event.amount >= 20000.0"},{"id":"score.several_patterns","code":"SEVERAL_PATTERNS","description":"The account shows two or more different risk patterns at once.","points":30,"mode":"active","when":"size(profiles.account.patterns) >= 2"},{"id":"score.risky_counterparty","code":"RISKY_COUNTERPARTY","description":"Money goes to a counterparty (account or merchant) that has an active high-severity signal.","points":35,"mode":"active","when":"profiles.counterparty.max_severity >= 70 || profiles.merchant.max_severity >= 70"}],
"scenarios":[
{"name":"no signals","steps":[{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"}],"rules":"default"},
{"name":"score effect","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"weak_a","rule_id":"r.weak_a","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"","effect":"score"}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t0","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t0\",\"score\":30,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"weak_a on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.weak_a\"}]}"},{"add":["account","acc1",{"signal_id":"s2","pattern":"weak_a","rule_id":"r.weak_a","severity":50,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"","effect":"score"}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":39,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"weak_a on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.weak_a\"}]}"},{"add":["device","dev1",{"signal_id":"s3","pattern":"weak_b","rule_id":"r.weak_b","severity":60,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"","effect":"score"}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":39,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"weak_b on device\",\"signal_id\":\"s3\",\"rule_id\":\"r.weak_b\"},{\"code\":\"SIGNAL\",\"detail\":\"weak_a on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.weak_a\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"20000","view":{"event_id":"t3","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":20000.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t3\",\"score\":85,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"weak_b on device\",\"signal_id\":\"s3\",\"rule_id\":\"r.weak_b\"},{\"code\":\"SIGNAL\",\"detail\":\"weak_a on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.weak_a\"},{\"code\":\"LARGE_AMOUNT\",\"detail\":\"A single outgoing transaction of 20000 or more.\",\"rule_id\":\"score.large_amount\"}]}"},{"add":["account","acc1",{"signal_id":"s4","pattern":"strong","rule_id":"r.strong","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t4","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t4\",\"score\":89,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"weak_b on device\",\"signal_id\":\"s3\",\"rule_id\":\"r.weak_b\"},{\"code\":\"SIGNAL\",\"detail\":\"weak_a on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.weak_a\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"},{\"code\":\"SIGNAL\",\"detail\":\"strong on account\",\"signal_id\":\"s4\",\"rule_id\":\"r.strong\"}]}"}],"rules":"default"},
{"name":"two signals of 50","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":50,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s2","pattern":"shared_device","rule_id":"r.dev","severity":50,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":75,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SIGNAL\",\"detail\":\"shared_device on device\",\"signal_id\":\"s2\",\"rule_id\":\"r.dev\"}]}"}],"rules":"default"},
{"name":"large amount","steps":[{"txn":{"ts_ms":1700000000000,"amount":"25000.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":25000.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":25,\"decision\":\"accept\",\"reasons\":[{\"code\":\"LARGE_AMOUNT\",\"detail\":\"A single outgoing transaction of 20000 or more.\",\"rule_id\":\"score.large_amount\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"25000","view":{"event_id":"t2","type":"top_up","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":25000.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"},{"txn":{"ts_ms":1700000000000,"amount":"19999.99999999","view":{"event_id":"t3","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":19999.99999999,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t3\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"}],"rules":"default"},
{"name":"several patterns","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s2","pattern":"takeover","rule_id":"r.takeover","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s3","pattern":"burst","rule_id":"r.burst","severity":25,"detected_ms":1699992800000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":63,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"},{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s3\",\"rule_id\":\"r.burst\"}]}"}],"rules":"default"},
{"name":"risky counterparty","steps":[{"add":["counterparty","cp1",{"signal_id":"s1","pattern":"mule","rule_id":"r.mule","severity":70,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":80,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"mule on counterparty\",\"signal_id\":\"s1\",\"rule_id\":\"r.mule\"},{\"code\":\"RISKY_COUNTERPARTY\",\"detail\":\"Money goes to a counterparty (account or merchant) that has an active high-severity signal.\",\"rule_id\":\"score.risky_counterparty\"}]}"},{"add":["merchant","cp2",{"signal_id":"s2","pattern":"bad_merchant","rule_id":"r.merchant","severity":75,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp2","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":84,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"bad_merchant on merchant\",\"signal_id\":\"s2\",\"rule_id\":\"r.merchant\"},{\"code\":\"RISKY_COUNTERPARTY\",\"detail\":\"Money goes to a counterparty (account or merchant) that has an active high-severity signal.\",\"rule_id\":\"score.risky_counterparty\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t3","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":null,"amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t3\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"}],"rules":"default"},
{"name":"all three rules","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":40,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s2","pattern":"takeover","rule_id":"r.takeover","severity":10,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["counterparty","cp1",{"signal_id":"s3","pattern":"mule","rule_id":"r.mule","severity":90,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"50000","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":50000.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":98,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"mule on counterparty\",\"signal_id\":\"s3\",\"rule_id\":\"r.mule\"},{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"RISKY_COUNTERPARTY\",\"detail\":\"Money goes to a counterparty (account or merchant) that has an active high-severity signal.\",\"rule_id\":\"score.risky_counterparty\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"},{\"code\":\"LARGE_AMOUNT\",\"detail\":\"A single outgoing transaction of 20000 or more.\",\"rule_id\":\"score.large_amount\"},{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"}]}"}],"rules":"default"},
{"name":"freeze via signal","steps":[{"add":["device","dev1",{"signal_id":"s0","pattern":"frozen_device","rule_id":"r.fd","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"freeze"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t0","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t0\",\"score\":20,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"frozen_device on device\",\"signal_id\":\"s0\",\"rule_id\":\"r.fd\"}]}"},{"add":["account","acc1",{"signal_id":"s1","pattern":"takeover","rule_id":"r.takeover","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"freeze"},"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s2","pattern":"bad_device","rule_id":"r.dev","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"block"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":100,\"decision\":\"reject\",\"reasons\":[{\"code\":\"ACCOUNT_FROZEN\",\"detail\":\"the account is frozen\"}]}"}],"rules":"default"},
{"name":"block via signals","steps":[{"add":["ip","10.1.2.3",{"signal_id":"s1","pattern":"bad_ip","rule_id":"r.ip","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"block"},"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s2","pattern":"bad_device","rule_id":"r.dev","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"block"},"trigger_event_id":""}]},{"add":["instrument","card9",{"signal_id":"s3","pattern":"bad_card","rule_id":"r.card","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"block"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":100,\"decision\":\"reject\",\"reasons\":[{\"code\":\"ENTITY_BLOCKED\",\"detail\":\"blocked: device, ip\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":"card9","status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":100,\"decision\":\"reject\",\"reasons\":[{\"code\":\"ENTITY_BLOCKED\",\"detail\":\"blocked: device, instrument, ip\"}]}"}],"rules":"default"},
{"name":"allow","steps":[{"add":["device","dev1",{"signal_id":"s1","pattern":"trusted_device","rule_id":"r.trust","severity":0,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"allow"},"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s2","pattern":"shared_device","rule_id":"r.dev","severity":60,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["ip","10.1.2.3",{"signal_id":"s3","pattern":"proxy","rule_id":"r.proxy","severity":45,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":45,\"decision\":\"review\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"proxy on ip\",\"signal_id\":\"s3\",\"rule_id\":\"r.proxy\"}]}"},{"add":["account","acc1",{"signal_id":"s4","pattern":"vip","rule_id":"r.vip","severity":0,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"allow"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":0,\"decision\":\"accept\",\"reasons\":[{\"code\":\"ALLOW_LISTED\",\"detail\":\"the account is trusted\"}]}"}],"rules":"default"},
{"name":"floors","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"odd_login","rule_id":"r.login","severity":10,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"step_up"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":10,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"odd_login on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.login\"},{\"code\":\"STEP_UP_REQUIRED\",\"detail\":\"a step_up entry is in force\"}]}"},{"add":["device","dev1",{"signal_id":"s2","pattern":"new_device","rule_id":"r.newdev","severity":5,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"review"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":15,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"odd_login on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.login\"},{\"code\":\"SIGNAL\",\"detail\":\"new_device on device\",\"signal_id\":\"s2\",\"rule_id\":\"r.newdev\"},{\"code\":\"STEP_UP_REQUIRED\",\"detail\":\"a step_up entry is in force\"}]}"},{"add":["ip","10.1.2.3",{"signal_id":"s3","pattern":"tor","rule_id":"r.tor","severity":90,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"limit"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t3","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t3\",\"score\":91,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"tor on ip\",\"signal_id\":\"s3\",\"rule_id\":\"r.tor\"},{\"code\":\"SIGNAL\",\"detail\":\"odd_login on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.login\"},{\"code\":\"SIGNAL\",\"detail\":\"new_device on device\",\"signal_id\":\"s2\",\"rule_id\":\"r.newdev\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t4","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev2","ip":"10.9.9.9","ip_prefix":"10.9.9.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t4\",\"score\":10,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"odd_login on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.login\"},{\"code\":\"STEP_UP_REQUIRED\",\"detail\":\"a step_up entry is in force\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t5","type":"payment","account_id":"acc2","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.9.9.9","ip_prefix":"10.9.9.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t5\",\"score\":5,\"decision\":\"review\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"new_device on device\",\"signal_id\":\"s2\",\"rule_id\":\"r.newdev\"},{\"code\":\"REVIEW_REQUIRED\",\"detail\":\"a review entry is in force\"}]}"}],"rules":"default"},
{"name":"verdicts","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":50,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"tx9"}]},{"add":["account","acc1",{"signal_id":"s2","pattern":"takeover","rule_id":"r.takeover","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"tx8"}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":76,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"}]}"},{"verdict":["tx9","legit",1700000000010]},{"txn":{"ts_ms":1700000000020,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.02,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":30,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"}]}"},{"verdict":["tx9","fraud",1700000000005]},{"txn":{"ts_ms":1700000000030,"amount":"10.00","view":{"event_id":"t3","type":"payment","account_id":"acc1","ts":1700000000.03,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t3\",\"score\":30,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"}]}"},{"verdict":["tx9","fraud",1700000000040]},{"txn":{"ts_ms":1700000000050,"amount":"10.00","view":{"event_id":"t4","type":"payment","account_id":"acc1","ts":1700000000.05,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t4\",\"score\":76,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"}]}"},{"verdict":["tx8","legit",1700000000060]},{"active":["account","acc1",1700000000070],"expect":["s1"]},{"verdict":["tx9","legit",1700000000060]},{"txn":{"ts_ms":1700000000080,"amount":"10.00","view":{"event_id":"t5","type":"payment","account_id":"acc1","ts":1700000000.08,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t5\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"},{"len":null,"expect":1}],"rules":"default"},
{"name":"keep per rule","steps":[{"add":["account","acc1",{"signal_id":"s0","pattern":"burst","rule_id":"r.burst","severity":10,"detected_ms":1699999980000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":11,"detected_ms":1699999981000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s2","pattern":"burst","rule_id":"r.burst","severity":12,"detected_ms":1699999982000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s3","pattern":"burst","rule_id":"r.burst","severity":13,"detected_ms":1699999983000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s4","pattern":"burst","rule_id":"r.burst","severity":14,"detected_ms":1699999984000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s5","pattern":"burst","rule_id":"r.burst","severity":15,"detected_ms":1699999985000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s6","pattern":"burst","rule_id":"r.burst","severity":16,"detected_ms":1699999986000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s7","pattern":"burst","rule_id":"r.burst","severity":17,"detected_ms":1699999987000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s8","pattern":"burst","rule_id":"r.burst","severity":18,"detected_ms":1699999988000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s9","pattern":"burst","rule_id":"r.burst","severity":19,"detected_ms":1699999989000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s0b","pattern":"burst","rule_id":"r.burst","severity":99,"detected_ms":1699999900000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s5","pattern":"burst","rule_id":"r.burst","severity":3,"detected_ms":1699999985000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"active":["account","acc1",1700000000000],"expect":["s9","s8","s7","s6","s4","s3","s2","s5"]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":19,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s9\",\"rule_id\":\"r.burst\"}]}"}],"rules":"default"},
{"name":"expiry","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":50,"detected_ms":1699996400000,"expires_ms":1700000000100,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s2","pattern":"takeover","rule_id":"r.takeover","severity":40,"detected_ms":1699996400000,"expires_ms":1700000000200,"penalty":null,"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s3","pattern":"shared","rule_id":"r.dev","severity":40,"detected_ms":1699996400000,"expires_ms":1700000000100,"penalty":null,"trigger_event_id":""}]},{"active":["account","acc1",1700000000099],"expect":["s1","s2"]},{"txn":{"ts_ms":1700000000100,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.1,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":40,\"decision\":\"review\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"}]}"},{"len":null,"expect":1},{"active":["account","acc1",1700000000100],"expect":["s2"]},{"txn":{"ts_ms":1700000000200,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.2,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"},{"len":null,"expect":0},{"active":["account","acc1",1700000000300],"expect":[]}],"rules":"default"},
{"name":"own signals","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s0","pattern":"takeover","rule_id":"r.takeover","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","own":[["account",{"signal_id":"s9","pattern":"burst","rule_id":"r.burst","severity":60,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"none"}],["account",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"none"}],["counterparty",{"signal_id":"s8","pattern":"mule","rule_id":"r.mule","severity":70,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"none"}],["counterparty",{"signal_id":"s8","pattern":"mule","rule_id":"r.mule","severity":70,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"none"}],["counterparty",{"signal_id":"s7","pattern":"mule","rule_id":"r.mule","severity":80,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"step_up"},"trigger_event_id":"none"}]],"view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":93,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"mule on counterparty\",\"signal_id\":\"s8\",\"rule_id\":\"r.mule\"},{\"code\":\"RISKY_COUNTERPARTY\",\"detail\":\"Money goes to a counterparty (account or merchant) that has an active high-severity signal.\",\"rule_id\":\"score.risky_counterparty\"},{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s0\",\"rule_id\":\"r.takeover\"},{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","own":[["device",{"signal_id":"s6","pattern":"x","rule_id":"r.x","severity":35,"detected_ms":1699996400000,"expires_ms":1699999999999,"penalty":null,"trigger_event_id":"none"}]],"view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":78,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"x on device\",\"signal_id\":\"s6\",\"rule_id\":\"r.x\"},{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s0\",\"rule_id\":\"r.takeover\"},{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"}]}"}],"rules":"default"},
{"name":"ordering and escaping","steps":[{"add":["ip","10.1.2.3",{"signal_id":"s1","pattern":"p\"q\\r\n\u0001\u001f é 漢 😀","rule_id":"r.a","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s2","pattern":"b","rule_id":"r.b","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s3","pattern":"c","rule_id":"r.c","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s4","pattern":"d","rule_id":"r.d","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s5","pattern":"e\t\b\f","rule_id":"r.e","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t\"1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t\\\"1\",\"score\":77,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"},{\"code\":\"SIGNAL\",\"detail\":\"c on account\",\"signal_id\":\"s3\",\"rule_id\":\"r.c\"},{\"code\":\"SIGNAL\",\"detail\":\"d on account\",\"signal_id\":\"s4\",\"rule_id\":\"r.d\"},{\"code\":\"SIGNAL\",\"detail\":\"e\\t\\b\\f on account\",\"signal_id\":\"s5\",\"rule_id\":\"r.e\"},{\"code\":\"SIGNAL\",\"detail\":\"b on device\",\"signal_id\":\"s2\",\"rule_id\":\"r.b\"},{\"code\":\"SIGNAL\",\"detail\":\"p\\\"q\\\\r\\n\\u0001\\u001f é 漢 😀 on ip\",\"signal_id\":\"s1\",\"rule_id\":\"r.a\"}]}"}],"rules":"default"},
{"name":"custom rules","steps":[{"txn":{"ts_ms":1700000000000,"amount":"10.00","spent_today":"1000.5","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":20,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SPENT\",\"detail\":\"Spent \\\"a lot\\\" today\\n(ü).\",\"rule_id\":\"score.spent\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","spent_today":"1000.49999999","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"},{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"30000","spent_today":"123456789.12345678","view":{"event_id":"t3","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":30000.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t3\",\"score\":62,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"LARGE_AMOUNT\",\"detail\":\"A single outgoing transaction of 20000 or more.\",\"rule_id\":\"score.large_amount\"},{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SPENT\",\"detail\":\"Spent \\\"a lot\\\" today\\n(ü).\",\"rule_id\":\"score.spent\"},{\"code\":\"EQUAL\",\"detail\":\"Equal points.\",\"rule_id\":\"score.equal\"}]}"}],"extra_rules":[{"id":"score.spent","code":"SPENT","description":"Spent \"a lot\" today\n(ü).","points":20,"mode":"active","when":"spent_today >= 1000.5 && size(penalties.account) == 0"},{"id":"score.shadow","code":"SHADOW","description":"Shadow.","points":50,"mode":"shadow","when":"true"},{"id":"score.disabled","code":"OFF","description":"Off.","points":50,"mode":"disabled","when":"true"},{"id":"score.error","code":"ERRS","description":"Errs.","points":50,"mode":"active","when":"profiles.nothing.count > 0"},{"id":"score.equal","code":"EQUAL","description":"Equal points.","points":20,"mode":"active","when":"profiles.account.count >= 1"}]},
{"name":"policy","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":50,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":50,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"20000","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":20000.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":62,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"LARGE_AMOUNT\",\"detail\":\"A single outgoing transaction of 20000 or more.\",\"rule_id\":\"score.large_amount\"}]}"}],"rules":"default","policy":{"review_at":10,"challenge_at":50,"reject_at":60,"unknown":"challenge"}}
]}"###;

fn to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(flag) => Value::Bool(*flag),
        Json::Number(number) => match number.as_i64() {
            Some(int) if !number.is_f64() => Value::Int(int),
            _ => Value::Float(number.as_f64().unwrap()),
        },
        Json::String(text) => Value::str(text),
        Json::Array(items) => Value::List(Rc::new(items.iter().map(to_value).collect())),
        Json::Object(items) => Value::Map(Rc::new(
            items
                .iter()
                .map(|(key, item)| (Rc::from(key.as_str()), to_value(item)))
                .collect(),
        )),
    }
}

fn view_of(json: &Json) -> Value {
    let mut view = EventView::default();
    for (name, item) in json.as_object().unwrap() {
        view.slots[event_slot(name).expect("an event field")] = Some(to_value(item));
    }
    Value::Event(Rc::new(view))
}

fn text(json: &Json) -> Rc<str> {
    Rc::from(json.as_str().unwrap())
}

fn signal_of(json: &Json) -> ActiveSignal {
    ActiveSignal {
        signal_id: text(&json["signal_id"]),
        pattern: text(&json["pattern"]),
        rule_id: text(&json["rule_id"]),
        severity: json["severity"].as_i64().unwrap(),
        detected_ms: json["detected_ms"].as_i64().unwrap(),
        expires_ms: json["expires_ms"].as_i64().unwrap(),
        penalty_kind: json["penalty"].get("kind").map(text),
        trigger_event_id: text(&json["trigger_event_id"]),
        score_only: json.get("effect").is_some_and(|effect| effect == "score"),
    }
}

fn rule_of(json: &Json) -> ScoreRule {
    ScoreRule {
        id: text(&json["id"]),
        code: text(&json["code"]),
        description: text(&json["description"]),
        points: json["points"].as_i64().unwrap(),
        active: json["mode"] == "active",
        when: Expr::compile(json["when"].as_str().unwrap()).expect("the rule compiles"),
    }
}

fn policy_of(json: &Json) -> Policy {
    let unknown = match json["unknown"].as_str().unwrap() {
        "accept" => "accept",
        "review" => "review",
        "challenge" => "challenge",
        _ => "reject",
    };
    let at = |name: &str| json[name].as_i64().unwrap();
    Policy {
        review_at: at("review_at"),
        challenge_at: at("challenge_at"),
        reject_at: at("reject_at"),
        unknown,
    }
}

/// Runs the fixture's scenario `name` and returns how many outputs it compared.
fn run(name: &str) -> usize {
    let fixture: Json = serde_json::from_str(FIXTURE).expect("the fixture reads");
    let scenario = fixture["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|scenario| scenario["name"] == name)
        .unwrap_or_else(|| panic!("no scenario {name}"));
    let mut rules: Vec<ScoreRule> = fixture["default_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(rule_of)
        .collect();
    if let Some(extra) = scenario.get("extra_rules") {
        rules.extend(extra.as_array().unwrap().iter().map(rule_of));
    }
    let policy = scenario.get("policy").map(policy_of).unwrap_or_default();
    let mut book = ProfileBook::default();
    let mut compared = 0;
    for (index, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
        let at = format!("{name}, step {index}");
        if let Some(add) = step.get("add") {
            let (kind, id) = (add[0].as_str().unwrap(), add[1].as_str().unwrap());
            book.add(kind, id, signal_of(&add[2]));
        } else if let Some(verdict) = step.get("verdict") {
            let (target, label) = (verdict[0].as_str().unwrap(), verdict[1].as_str().unwrap());
            book.apply_verdict(target, label, verdict[2].as_i64().unwrap());
        } else if let Some(active) = step.get("active") {
            let (kind, id) = (active[0].as_str().unwrap(), active[1].as_str().unwrap());
            let ids: Vec<String> = book
                .active(kind, id, active[2].as_i64().unwrap())
                .iter()
                .map(|signal| signal.signal_id.to_string())
                .collect();
            let expected: Vec<String> = serde_json::from_value(step["expect"].clone()).unwrap();
            assert_eq!(ids, expected, "{at}");
            compared += 1;
        } else if step.get("len").is_some() {
            assert_eq!(book.len() as u64, step["expect"].as_u64().unwrap(), "{at}");
            compared += 1;
        } else {
            let txn = &step["txn"];
            let view = view_of(&txn["view"]);
            let own: Vec<(Rc<str>, ActiveSignal)> = txn
                .get("own")
                .map(|own| {
                    own.as_array()
                        .unwrap()
                        .iter()
                        .map(|pair| (text(&pair[0]), signal_of(&pair[1])))
                        .collect()
                })
                .unwrap_or_default();
            let spent = txn
                .get("spent_today")
                .map_or("0", |spent| spent.as_str().unwrap());
            let event_id = txn["view"]["event_id"].as_str().unwrap();
            let decision = decide(
                &view,
                txn["ts_ms"].as_i64().unwrap(),
                txn["view"]["type"].as_str().unwrap(),
                Dec::parse(txn["amount"].as_str().unwrap()).unwrap(),
                Dec::parse(spent).unwrap(),
                &own,
                &mut book,
                &rules,
                &policy,
            )
            .unwrap_or_else(|_| panic!("{at}: the native run gave up"));
            let line = String::from_utf8(decision_line(event_id, &decision)).unwrap();
            assert_eq!(line, step["expect"].as_str().unwrap(), "{at}");
            compared += 1;
        }
    }
    compared
}

#[test]
fn no_signals_accepts_with_score_zero() {
    assert_eq!(run("no signals"), 1);
    let view = Value::Event(Rc::new(EventView::default()));
    let mut book = ProfileBook::default();
    let policy = Policy::default();
    let decision = decide(
        &view,
        0,
        "payment",
        Dec::ZERO,
        Dec::ZERO,
        &[],
        &mut book,
        &[],
        &policy,
    );
    let decision = decision.unwrap_or_else(|_| panic!("decides"));
    assert_eq!(
        decision,
        Decision {
            score: 0,
            decision: "accept",
            reasons: vec![]
        }
    );
}

#[test]
fn score_effect_signals_alone_stay_below_review() {
    assert_eq!(run("score effect"), 5);
}

#[test]
fn two_signals_of_fifty_give_seventy_five() {
    assert_eq!(run("two signals of 50"), 1);
}

#[test]
fn large_amount_rule() {
    assert_eq!(run("large amount"), 3);
}

#[test]
fn several_patterns_rule() {
    assert_eq!(run("several patterns"), 1);
}

#[test]
fn risky_counterparty_rule() {
    assert_eq!(run("risky counterparty"), 3);
}

#[test]
fn all_three_rules() {
    assert_eq!(run("all three rules"), 1);
}

#[test]
fn freeze_via_signal_rejects() {
    assert_eq!(run("freeze via signal"), 2);
}

#[test]
fn block_via_signals_rejects() {
    assert_eq!(run("block via signals"), 2);
}

#[test]
fn allow_listing() {
    assert_eq!(run("allow"), 2);
}

#[test]
fn step_up_and_review_floors() {
    assert_eq!(run("floors"), 5);
}

#[test]
fn verdicts_clear_and_restore_signals() {
    assert_eq!(run("verdicts"), 7);
}

#[test]
fn keep_per_rule_prunes_the_oldest() {
    assert_eq!(run("keep per rule"), 2);
    let mut book = ProfileBook::new(2, 10);
    let signal = |id: &str, detected_ms: i64| ActiveSignal {
        signal_id: Rc::from(id),
        pattern: Rc::from("p"),
        rule_id: Rc::from("r"),
        severity: 10,
        detected_ms,
        expires_ms: 1_000,
        penalty_kind: None,
        trigger_event_id: Rc::from(""),
        score_only: false,
    };
    book.add("account", "a", signal("b", 5));
    book.add("account", "a", signal("a", 5));
    book.add("account", "a", signal("c", 1)); // the oldest: dropped at once
    let ids: Vec<String> = book
        .active("account", "a", 0)
        .iter()
        .map(|s| s.signal_id.to_string())
        .collect();
    assert_eq!(ids, ["a", "b"]);
    book.add("account", "a", signal("d", 6)); // (5, "a") goes
    let ids: Vec<String> = book
        .active("account", "a", 0)
        .iter()
        .map(|s| s.signal_id.to_string())
        .collect();
    assert_eq!(ids, ["b", "d"]);
    assert_eq!(book.applied, 4);
}

#[test]
fn expired_signals_drop_out() {
    assert_eq!(run("expiry"), 7);
}

#[test]
fn own_signals_are_appended_unsorted() {
    assert_eq!(run("own signals"), 2);
}

#[test]
fn reasons_order_and_json_escaping() {
    assert_eq!(run("ordering and escaping"), 1);
}

#[test]
fn custom_rules_see_penalties_and_spent_today() {
    assert_eq!(run("custom rules"), 3);
}

#[test]
fn policy_thresholds() {
    assert_eq!(run("policy"), 2);
}

#[test]
fn verdicts_keep_the_newest() {
    let mut book = ProfileBook::new(8, 2);
    book.apply_verdict("a", "legit", 1);
    book.apply_verdict("b", "legit", 1);
    book.apply_verdict("a", "fraud", 2); // a is now the newest
    book.apply_verdict("c", "legit", 1); // b, the oldest, goes
    assert_eq!(book.verdict_count(), 2);
    assert!(book.verdicts.contains_key("a") && book.verdicts.contains_key("c"));
    book.apply_verdict("a", "legit", 1); // older than the known one: ignored
    assert!(!book.verdicts["a"].legit);
    let mut none = ProfileBook::new(8, 0);
    none.apply_verdict("a", "legit", 1);
    assert_eq!(none.verdict_count(), 0);
}

/// Python: over every pair (a, b) in 0..=100, and over triples on a grid,
/// `tot = (tot * 31 + round(100 * (1 - r))) % 1000000007`.
#[test]
fn combined_matches_python_floats_and_rounding() {
    assert_eq!(combined([50, 50]), 75);
    assert_eq!(combined([1, 50]), 50); // 50.5 -> 50
    assert_eq!(combined([2, 75]), 76); // 75.5 -> 76
    assert_eq!(combined([29]), 29);
    let mut total: i64 = 0;
    for a in 0..=100 {
        for b in 0..=100 {
            total = (total * 31 + combined([a, b])) % 1_000_000_007;
        }
    }
    assert_eq!(total, 365070347);
    let mut total: i64 = 0;
    for a in (0..=100).step_by(3) {
        for b in (0..=100).step_by(7) {
            for c in (0..=100).step_by(5) {
                total = (total * 31 + combined([a, b, c])) % 1_000_000_007;
            }
        }
    }
    assert_eq!(total, 685324350);
}

#[test]
fn json_strings_as_orjson_writes_them() {
    // orjson.dumps("".join(map(chr, range(0x21))) + '"\\/\x7f\u2028é😀')
    let text: String = (0u8..0x21).map(char::from).collect::<String>() + "\"\\/\u{7f}\u{2028}é😀";
    let mut out = Vec::new();
    push_json_str(&mut out, &text);
    let expected =
        "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\
        \\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\
        \\u001a\\u001b\\u001c\\u001d\\u001e\\u001f \\\"\\\\/\u{7f}\u{2028}é😀\"";
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}
