//! Tests of the Merkle module against `../shared/vectors/merkle` and random trees.

use super::*;
use proptest::prelude::*;
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors/merkle/");

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{VECTORS}{name}")).expect("vector file readable");
    serde_json::from_str(&text).expect("vector file is JSON")
}

fn hash(v: &Value) -> Hash {
    hex::decode(v.as_str().expect("hex string"))
        .expect("valid hex")
        .try_into()
        .expect("32 bytes")
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().expect("array").iter().map(hash).collect()
}

fn num(v: &Value) -> u64 {
    v.as_u64().expect("unsigned number")
}

fn vector_leaf_hashes() -> Vec<Hash> {
    let leaves = load("leaves.json");
    leaves["leaves"]
        .as_array()
        .expect("leaves")
        .iter()
        .enumerate()
        .map(|(i, leaf)| {
            assert_eq!(num(&leaf["index"]), i as u64);
            let data = hex::decode(leaf["data"].as_str().expect("data")).expect("hex");
            let h = leaf_hash(&data);
            assert_eq!(h, hash(&leaf["leaf_hash"]), "leaf {i}");
            h
        })
        .collect()
}

#[test]
fn every_vector_leaf_hash_matches() {
    assert_eq!(vector_leaf_hashes().len(), 72);
}

#[test]
fn every_vector_root_matches_slice_and_frontier() {
    let leaves = vector_leaf_hashes();
    let roots = load("roots.json");
    assert_eq!(root(&[]), hash(&roots["empty_tree_root"]));
    assert_eq!(Frontier::new().root(), hash(&roots["empty_tree_root"]));
    let cases = roots["roots"].as_array().expect("roots");
    assert_eq!(cases.len(), 72);
    let mut frontier = Frontier::new();
    for case in cases {
        let size = num(&case["tree_size"]);
        frontier.push(leaves[frontier.size() as usize]);
        assert_eq!(frontier.size(), size);
        assert_eq!(
            root(&leaves[..size as usize]),
            hash(&case["root"]),
            "size {size}"
        );
        assert_eq!(frontier.root(), hash(&case["root"]), "size {size}");
    }
}

#[test]
fn every_inclusion_vector_is_generated_and_judged_correctly() {
    let leaves = vector_leaf_hashes();
    let cases = load("inclusion.json");
    let (mut valid, mut invalid) = (0, 0);
    for case in cases["cases"].as_array().expect("cases") {
        let (index, size) = (num(&case["leaf_index"]), num(&case["tree_size"]));
        let proof = hashes(&case["proof"]);
        let result = verify_inclusion(
            &hash(&case["leaf_hash"]),
            index,
            size,
            &proof,
            &hash(&case["root"]),
        );
        if case["valid"].as_bool().expect("valid flag") {
            valid += 1;
            assert_eq!(result, Ok(()), "{case}");
            assert_eq!(
                inclusion_proof(&leaves[..], index, size),
                Ok(proof),
                "{case}"
            );
        } else {
            invalid += 1;
            assert!(result.is_err(), "accepted must-fail case {case}");
        }
    }
    assert_eq!((valid, invalid), (343, 324));
}

#[test]
fn every_consistency_vector_is_generated_and_judged_correctly() {
    let leaves = vector_leaf_hashes();
    let cases = load("consistency.json");
    let (mut valid, mut invalid) = (0, 0);
    for case in cases["cases"].as_array().expect("cases") {
        let (old, new) = (num(&case["old_size"]), num(&case["new_size"]));
        let proof = hashes(&case["proof"]);
        let result = verify_consistency(
            old,
            new,
            &hash(&case["old_root"]),
            &hash(&case["new_root"]),
            &proof,
        );
        if case["valid"].as_bool().expect("valid flag") {
            valid += 1;
            assert_eq!(result, Ok(()), "{case}");
            assert_eq!(
                consistency_proof(&leaves[..], old, new),
                Ok(proof),
                "{case}"
            );
        } else {
            invalid += 1;
            assert!(result.is_err(), "accepted must-fail case {case}");
        }
    }
    assert_eq!((valid, invalid), (517, 275));
}

#[test]
fn proofs_beyond_the_available_leaves_are_refused() {
    let leaves: Vec<Hash> = (0u8..5).map(|i| leaf_hash(&[i])).collect();
    assert_eq!(
        inclusion_proof(&leaves, 0, 6),
        Err(MerkleError::SizeOutOfRange)
    );
    assert_eq!(
        inclusion_proof(&leaves, 5, 5),
        Err(MerkleError::IndexOutOfRange)
    );
    assert_eq!(
        consistency_proof(&leaves, 1, 6),
        Err(MerkleError::SizeOutOfRange)
    );
    assert_eq!(
        consistency_proof(&leaves, 0, 5),
        Err(MerkleError::InvalidSizes)
    );
    assert_eq!(
        consistency_proof(&leaves, 4, 3),
        Err(MerkleError::InvalidSizes)
    );
    assert_eq!(consistency_proof(&leaves, 5, 5), Ok(vec![]));
    assert_eq!(
        Frontier::from_source(&leaves, 6),
        Err(MerkleError::SizeOutOfRange)
    );
}

#[test]
fn frontier_bytes_round_trip_and_reject_wrong_lengths() {
    let mut frontier = Frontier::new();
    for i in 0u8..11 {
        frontier.push(leaf_hash(&[i]));
    }
    let bytes = frontier.to_bytes();
    assert_eq!(Frontier::from_bytes(&bytes), Ok(frontier.clone()));
    assert_eq!(
        Frontier::from_bytes(&Frontier::new().to_bytes()),
        Ok(Frontier::new())
    );
    for len in 0..bytes.len() {
        assert_eq!(
            Frontier::from_bytes(&bytes[..len]),
            Err(MerkleError::MalformedFrontier)
        );
    }
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; HASH_SIZE]);
    assert_eq!(
        Frontier::from_bytes(&longer),
        Err(MerkleError::MalformedFrontier)
    );
}

fn leaves_of(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

proptest! {
    #[test]
    fn frontier_root_equals_slice_root(n in 0u64..600) {
        let leaves = leaves_of(n);
        let frontier = Frontier::from_source(&leaves, n).unwrap();
        prop_assert_eq!(frontier.size(), n);
        prop_assert_eq!(frontier.root(), root(&leaves));
        prop_assert_eq!(Frontier::from_bytes(&frontier.to_bytes()).unwrap(), frontier);
    }

    #[test]
    fn generated_inclusion_proofs_verify(size in 1u64..400, seed in any::<u64>()) {
        let leaves = leaves_of(size);
        let index = seed % size;
        let proof = inclusion_proof(&leaves, index, size).unwrap();
        let r = root(&leaves);
        prop_assert_eq!(verify_inclusion(&leaves[index as usize], index, size, &proof, &r), Ok(()));
        let other = leaf_hash(b"not in the tree");
        prop_assert!(verify_inclusion(&other, index, size, &proof, &r).is_err());
    }

    #[test]
    fn generated_consistency_proofs_verify(new in 1u64..400, seed in any::<u64>()) {
        let leaves = leaves_of(new);
        let old = 1 + seed % new;
        let proof = consistency_proof(&leaves, old, new).unwrap();
        let (old_root, new_root) = (root(&leaves[..old as usize]), root(&leaves));
        prop_assert_eq!(verify_consistency(old, new, &old_root, &new_root, &proof), Ok(()));
        if old < new {
            prop_assert!(verify_consistency(old, new, &new_root, &new_root, &proof).is_err());
        }
    }
}
