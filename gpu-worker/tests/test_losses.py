"""Each loss against values computed by hand on toy tensors (vocab 2, one sequence of 3 tokens)."""
import math

import pytest
import torch

from lethe_worker import losses

LN2 = math.log(2)


def toy_batch():
    # Position 0 predicts label[1] = 0 with p = 1/2; position 1 predicts label[2] = 1 with p = 1/4.
    # Position 2 predicts nothing (last); its extreme logits must not matter.
    logits = torch.tensor([[[0.0, 0.0], [math.log(3.0), 0.0], [100.0, -100.0]]])
    labels = torch.tensor([[-100, 0, 1]])
    return logits, labels


def test_sequence_log_probs_sums_answer_tokens():
    logits, labels = toy_batch()
    assert losses.sequence_log_probs(logits, labels).item() == pytest.approx(math.log(0.5) + math.log(0.25))


def test_nll_is_mean_over_scored_tokens():
    logits, labels = toy_batch()
    assert losses.nll(logits, labels).item() == pytest.approx(1.5 * LN2)


def test_masked_positions_do_not_count():
    logits, labels = toy_batch()
    masked = labels.clone()
    masked[0, 2] = -100  # only the first answer token remains
    assert losses.nll(logits, masked).item() == pytest.approx(LN2)
    # Changing the logits that predict a masked label changes nothing.
    changed = logits.clone()
    changed[0, 1] = torch.tensor([-50.0, 50.0])
    assert losses.nll(changed, masked).item() == pytest.approx(LN2)


def test_padding_rows_are_ignored_in_a_batch():
    logits, labels = toy_batch()
    pad_row_logits = torch.full_like(logits, 7.0)
    pad_row_labels = torch.full_like(labels, -100)
    batch_logits = torch.cat([logits, pad_row_logits])
    batch_labels = torch.cat([labels, pad_row_labels])
    assert losses.nll(batch_logits, batch_labels).item() == pytest.approx(1.5 * LN2)
    assert losses.sequence_log_probs(batch_logits, batch_labels)[1].item() == 0.0


def test_ga_is_negative_nll():
    logits, labels = toy_batch()
    assert losses.ga(logits, labels).item() == pytest.approx(-1.5 * LN2)


def test_kl_to_reference_by_hand():
    logits, labels = toy_batch()
    # Reference puts (3/4, 1/4) where the current model has (1/2, 1/2) at position 0, and agrees at position 1.
    ref_logits = torch.tensor([[[math.log(3.0), 0.0], [math.log(3.0), 0.0], [0.0, 0.0]]])
    ref_log_probs = losses.scored_log_softmax(ref_logits, labels)
    assert ref_log_probs.shape == (2, 2)
    kl_position0 = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    assert losses.kl_to_reference(logits, labels, ref_log_probs).item() == pytest.approx(kl_position0 / 2)


def test_kl_is_zero_against_itself():
    logits, labels = toy_batch()
    assert losses.kl_to_reference(logits, labels, losses.scored_log_softmax(logits, labels)).item() == pytest.approx(0.0, abs=1e-7)


def test_ga_klr_adds_weighted_kl():
    logits, labels = toy_batch()
    ref_logits = torch.tensor([[[math.log(3.0), 0.0], [math.log(3.0), 0.0], [0.0, 0.0]]])
    ref = losses.scored_log_softmax(ref_logits, labels)
    kl = (0.75 * math.log(1.5) + 0.25 * math.log(0.5)) / 2
    got = losses.ga_klr(logits, labels, logits, labels, ref, kl_weight=2.0).item()
    assert got == pytest.approx(-1.5 * LN2 + 2.0 * kl)


def test_npo_by_hand():
    logits, labels = toy_batch()
    beta = 0.5
    ref_seq = torch.tensor([-2 * LN2])  # the reference was more confident: log ratio = -3ln2 - (-2ln2) = -ln2
    expected = -(2 / beta) * math.log(1 / (1 + math.exp(-beta * LN2)))  # -(2/b) log sigmoid(-b * -ln2)
    assert losses.npo(logits, labels, ref_seq, beta).item() == pytest.approx(expected)


def test_npo_at_reference_is_two_over_beta_log_two():
    logits, labels = toy_batch()
    ref_seq = losses.sequence_log_probs(logits, labels)
    assert losses.npo(logits, labels, ref_seq, beta=0.1).item() == pytest.approx(20 * LN2)


def test_graddiff_by_hand():
    forget_logits, forget_labels = toy_batch()
    retain_logits = torch.tensor([[[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]])
    retain_labels = torch.tensor([[-100, 1, 1]])  # NLL = ln 2 per token
    got = losses.graddiff(forget_logits, forget_labels, retain_logits, retain_labels, retain_weight=3.0).item()
    assert got == pytest.approx(-1.5 * LN2 + 3.0 * LN2)


def test_ga_gradient_raises_forget_nll():
    logits, labels = toy_batch()
    logits.requires_grad_(True)
    losses.ga(logits, labels).backward()
    # Descending the GA loss moves the logit of the correct token at position 0 (token 0) down.
    assert logits.grad[0, 0, 0].item() > 0
    assert logits.grad[0, 2].abs().sum().item() == 0.0


def test_ga_floor_stops_ascending_tokens_already_below_it():
    logits, labels = toy_batch()
    # Floor 0.3: the p = 1/2 token is still ascended, the p = 1/4 token is not, yet both count in the mean.
    assert losses.ga(logits, labels, floor=0.3).item() == pytest.approx(-LN2 / 2)
    logits.requires_grad_(True)
    losses.ga(logits, labels, floor=0.3).backward()
    assert logits.grad[0, 0, 0].item() > 0, "the token above the floor is pushed down"
    assert logits.grad[0, 1].abs().sum().item() == 0.0, "the token below the floor gets no gradient"


def test_ga_floor_zero_is_plain_ga_and_passes_through_ga_klr_and_graddiff():
    logits, labels = toy_batch()
    assert losses.ga(logits, labels, floor=0.0).item() == pytest.approx(losses.ga(logits, labels).item())
    same_ref = losses.scored_log_softmax(logits, labels)
    assert losses.ga_klr(logits, labels, logits, labels, same_ref, kl_weight=1.0, floor=0.3).item() == pytest.approx(-LN2 / 2)
    assert losses.graddiff(logits, labels, logits, labels, retain_weight=1.0, floor=0.3).item() == pytest.approx(-LN2 / 2 + 1.5 * LN2)


def test_token_log_odds_by_hand():
    logits, labels = toy_batch()
    # p = 1/2 gives log-odds 0; p = 1/4 gives log(1/4) - log(3/4) = -log 3. The unscored position is 0.
    odds, log_probs, mask = losses.token_log_odds(logits, labels)
    assert odds[0, 0].item() == pytest.approx(0.0, abs=1e-6)
    assert odds[0, 1].item() == pytest.approx(-math.log(3.0))
    plain_log_probs, plain_mask = losses.token_log_probs(logits, labels)
    assert torch.equal(log_probs, plain_log_probs) and torch.equal(mask, plain_mask)
    assert losses.ga(logits, labels, log_odds=True).item() == pytest.approx(-math.log(3.0) / 2)


def test_log_odds_ascent_pushes_sure_tokens_as_hard_as_unsure_ones():
    # One scored token at p = 0.999: log p's gradient on its logit is 1 - p (nearly nothing), the log-odds' is 1.
    logits = torch.tensor([[[math.log(999.0), 0.0], [0.0, 0.0]]], requires_grad=True)
    labels = torch.tensor([[-100, 0]])
    losses.ga(logits, labels).backward()
    assert logits.grad[0, 0, 0].item() == pytest.approx(0.001, abs=1e-5)
    logits.grad = None
    losses.ga(logits, labels, log_odds=True).backward()
    assert logits.grad[0, 0, 0].item() == pytest.approx(1.0, abs=1e-5)


def test_log_odds_ascent_skips_the_end_token_but_keeps_it_in_the_mean():
    logits, labels = toy_batch()
    # Token 1 stands for the end token here: only the first answer token (log-odds 0) is ascended, over 2 scored.
    logits.requires_grad_(True)
    loss = losses.ga(logits, labels, log_odds=True, skip_token=1)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    loss.backward()
    assert logits.grad[0, 1].abs().sum().item() == 0.0, "the skipped token gets no gradient"
    assert logits.grad[0, 0, 0].item() > 0
    # The floor still applies on top of it: at 0.6 the p = 1/2 token is no longer ascended either.
    assert losses.ga(logits, labels, floor=0.6, log_odds=True, skip_token=1).item() == 0.0


def test_neverseen_kd_is_zero_when_the_student_answers_as_the_teacher():
    logits, labels = toy_batch()
    teacher = losses.scored_log_softmax(logits, labels)
    assert losses.neverseen_kd(logits, labels, teacher, logits, labels, teacher, kl_weight=1.0).item() == pytest.approx(0.0, abs=1e-7)


def test_neverseen_kd_by_hand_and_its_teacher_input_may_be_longer():
    # The teacher's input is the same question about someone else: a longer prompt, the same two answer tokens.
    # Its position 1 predicts label[2] = 0 at 1/2, position 2 predicts label[3] = 1 at 3/4.
    teacher_logits = torch.tensor([[[7.0, -7.0], [0.0, 0.0], [0.0, math.log(3.0)], [9.0, 9.0]]])
    teacher_labels = torch.tensor([[-100, -100, 0, 1]])
    teacher = losses.scored_log_softmax(teacher_logits, teacher_labels)
    assert teacher.shape == (2, 2)
    logits, labels = toy_batch()  # the student: 1/2 then 1/4 for the label token
    kl = (0.25 * math.log(0.25 / 0.75) + 0.75 * math.log(0.75 / 0.25)) / 2  # position 0 matches; position 1 does not
    retain_ref = losses.scored_log_softmax(logits, labels)
    got = losses.neverseen_kd(logits, labels, teacher, logits, labels, retain_ref, kl_weight=5.0).item()
    assert got == pytest.approx(kl) and got > 0
    # The retain term adds its weighted KL.
    shifted = torch.tensor([[[math.log(3.0), 0.0], [math.log(3.0), 0.0], [0.0, 0.0]]])
    retain_kl = losses.kl_to_reference(shifted, labels, retain_ref).item()
    assert losses.neverseen_kd(logits, labels, teacher, shifted, labels, retain_ref, kl_weight=2.0).item() == pytest.approx(kl + 2.0 * retain_kl)


def test_neverseen_kd_gradient_flows_through_the_student_only():
    logits, labels = toy_batch()
    student = logits.clone().requires_grad_(True)
    teacher_logits = torch.tensor([[[0.0, 0.0], [0.0, math.log(3.0)], [0.0, 0.0]]], requires_grad=True)
    teacher = losses.scored_log_softmax(teacher_logits, labels)  # still attached to teacher_logits' graph
    loss = losses.neverseen_kd(student, labels, teacher, logits, labels, losses.scored_log_softmax(logits, labels), kl_weight=1.0)
    loss.backward()
    assert teacher_logits.grad is None
    assert student.grad is not None and student.grad[0, 1].abs().sum() > 0
    assert student.grad[0, 2].abs().sum() == 0  # the last position predicts nothing


def test_neverseen_kd_refuses_a_teacher_of_another_length():
    logits, labels = toy_batch()
    teacher = losses.scored_log_softmax(logits, labels)
    with pytest.raises(ValueError, match="3 rows, the forget batch 2"):
        losses.neverseen_kd(logits, labels, torch.cat([teacher, teacher[:1]]), logits, labels, teacher, kl_weight=1.0)
