//! Tests of the tlog-proof format: round trips and tampering.

use super::*;
use crate::audit::merkle::{inclusion_proof, Frontier};
use crate::audit::note::{sign_note, Signer};

const ORIGIN: &str = "callvault.example/proof-test";

fn leaves(n: u64) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
}

/// A signer, the leaves of a 13-leaf log and a proof for leaf `index`.
fn fixture(index: u64) -> (Signer, Vec<Vec<u8>>, TlogProof) {
    let signer = Signer::from_seed([42; 32], ORIGIN).unwrap();
    let data = leaves(13);
    let hashes: Vec<Hash> = data.iter().map(|d| leaf_hash(d)).collect();
    let frontier = Frontier::from_source(&hashes, 13).unwrap();
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: frontier.size(),
        root: frontier.root(),
        extensions: vec![],
    };
    let note = sign_note(&checkpoint.to_text().unwrap(), &[&signer]).unwrap();
    let proof = TlogProof {
        extra: None,
        index,
        hashes: inclusion_proof(&hashes, index, 13).unwrap(),
        checkpoint_note: note,
    };
    (signer, data, proof)
}

#[test]
fn a_proof_round_trips_through_text_and_verifies() {
    for index in 0..13 {
        let (signer, data, proof) = fixture(index);
        let text = proof.to_text();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\nindex "));
        let parsed = TlogProof::parse(&text).unwrap();
        assert_eq!(parsed, proof);
        let checkpoint = parsed
            .verify(&data[index as usize], &[signer.verifier()])
            .unwrap();
        assert_eq!((checkpoint.origin.as_str(), checkpoint.size), (ORIGIN, 13));
    }
}

#[test]
fn extra_data_round_trips() {
    let (_, _, mut proof) = fixture(3);
    proof.extra = Some(b"opaque".to_vec());
    let text = proof.to_text();
    assert!(text.contains("\nextra b3BhcXVl\nindex 3\n"));
    assert_eq!(TlogProof::parse(&text), Ok(proof));
}

#[test]
fn a_single_leaf_log_has_an_empty_proof_that_round_trips() {
    let signer = Signer::from_seed([1; 32], ORIGIN).unwrap();
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: 1,
        root: leaf_hash(b"only"),
        extensions: vec![],
    };
    let note = sign_note(&checkpoint.to_text().unwrap(), &[&signer]).unwrap();
    let proof = TlogProof {
        extra: None,
        index: 0,
        hashes: vec![],
        checkpoint_note: note,
    };
    let parsed = TlogProof::parse(&proof.to_text()).unwrap();
    assert_eq!(parsed.verify(b"only", &[signer.verifier()]), Ok(checkpoint));
}

#[test]
fn a_tampered_hash_fails() {
    let (signer, data, mut proof) = fixture(5);
    proof.hashes[1][0] ^= 1;
    let parsed = TlogProof::parse(&proof.to_text()).unwrap();
    assert_eq!(
        parsed.verify(&data[5], &[signer.verifier()]),
        Err(ProofError::Inclusion(MerkleError::InvalidProof))
    );
}

#[test]
fn a_tampered_index_or_leaf_fails() {
    let (signer, data, proof) = fixture(5);
    let text = proof.to_text().replace("index 5\n", "index 4\n");
    let parsed = TlogProof::parse(&text).unwrap();
    assert!(parsed.verify(&data[5], &[signer.verifier()]).is_err());
    assert!(proof.verify(&data[4], &[signer.verifier()]).is_err());
    assert!(proof.verify(b"entry 5 ", &[signer.verifier()]).is_err());
}

#[test]
fn a_tampered_or_untrusted_checkpoint_fails() {
    let (signer, data, proof) = fixture(5);
    let text = proof
        .to_text()
        .replace(&format!("{ORIGIN}\n13\n"), &format!("{ORIGIN}\n14\n"));
    let parsed = TlogProof::parse(&text).unwrap();
    assert_eq!(
        parsed.verify(&data[5], &[signer.verifier()]),
        Err(ProofError::Checkpoint(NoteError::BadSignature))
    );
    let stranger = Signer::from_seed([43; 32], ORIGIN).unwrap();
    assert_eq!(
        proof.verify(&data[5], &[stranger.verifier()]),
        Err(ProofError::Checkpoint(NoteError::NoTrustedSignature))
    );
}

#[test]
fn malformed_proof_texts_are_refused() {
    let (_, _, proof) = fixture(5);
    let good = proof.to_text();
    let hash_line = B64.encode(proof.hashes[0]);
    let bad = [
        good.replacen(HEADER, "c2sp.org/tlog-proof@v2", 1),
        good.replace("index 5\n", "index 05\n"),
        good.replace("index 5\n", "index -5\n"),
        good.replace("index 5\n", "index  5\n"),
        good.replace("index 5\n", ""),
        good.replace("index 5\n", "extra !!\nindex 5\n"),
        good.replace(&hash_line, &hash_line[..40]),
        good.split("\n\n").next().unwrap().to_string(),
        format!("{}\n\n", good.split("\n\n").next().unwrap()),
    ];
    for text in bad {
        assert_eq!(
            TlogProof::parse(&text),
            Err(ProofError::Malformed),
            "{text:?}"
        );
    }
}

#[test]
fn a_blank_line_inside_the_hashes_makes_the_checkpoint_fail() {
    let (signer, data, proof) = fixture(5);
    let hash_line = B64.encode(proof.hashes[0]);
    let text = proof
        .to_text()
        .replace(&format!("{hash_line}\n"), &format!("{hash_line}\n\n"));
    let parsed = TlogProof::parse(&text).unwrap();
    assert!(parsed.verify(&data[5], &[signer.verifier()]).is_err());
}

#[test]
fn every_truncation_of_a_proof_is_refused() {
    let (signer, data, proof) = fixture(7);
    let text = proof.to_text();
    for len in 0..text.len() {
        let Some(prefix) = text.get(..len) else {
            continue;
        };
        let result =
            TlogProof::parse(prefix).and_then(|p| p.verify(&data[7], &[signer.verifier()]));
        assert!(result.is_err(), "truncation to {len} accepted");
    }
}
