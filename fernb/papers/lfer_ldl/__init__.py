"""LFER-LDL (Liu, Luo, Xu 2022): a lightweight ShuffleNetV2 with label-distribution learning, and what SynthFER
lets us measure beyond the paper.

* :mod:`.paper`: the printed numbers (Tables 1-4, the peaks of Figs. 6-7) and the §2.3 protocol;
* :mod:`.recipes`: what each profile trains (student, teacher, sweep, ablation, controls);
* :mod:`.distributions`: label distributions (§1.3): the teacher's, SynthFER's true blends, baselines, and the
  teacher-against-truth report;
* :mod:`.experiments`: the drivers over the chapter object ``ch``;
* :mod:`.tables`, :mod:`.figures`, :mod:`.verdicts`: what the chapter shows, and its results in words.

Chapter 09 reads ``from fernb.papers import lfer_ldl`` and calls the names below.
"""

from fernb.papers.lfer_ldl.distributions import (ORACLE, SMOOTHING, ambiguous_examples, distribution_report,
                                                 entropy, has_true_blends, kl_rows, label_conditional, paired_gap,
                                                 save_distributions, smoothed_labels, teacher_distributions,
                                                 teacher_vs_truth, true_blend_distributions)
from fernb.papers.lfer_ldl.experiments import (Teachers, ablation, combo, evaluations, examples, kl_targets, ldl_pair,
                                               peak_runs, protocol_table, students, sweep, train_teachers, truth_report,
                                               where, with_ldl)
from fernb.papers.lfer_ldl.figures import curves_figure, distribution_figure, sweep_figure, teacher_examples
from fernb.papers.lfer_ldl.paper import (FLOPS_M, OURS, PAPER_DATASET, PAPER_TABLES, PEAKS, TABLE_1, TABLE_2,
                                         TABLE_3, TABLE_4, check_coefficients, paper_dataset, paper_protocol,
                                         peak_beta)
from fernb.papers.lfer_ldl.recipes import (ABLATION, CONTROLS, RECIPES, STUDENT, SWEEP, TEACHER, stand_in,
                                           student_options,
                                           teacher_options)
from fernb.papers.lfer_ldl.tables import (CONTROL_PAIRS, ablation_table, accuracies, comparison_table,
                                          comparison_tables, complexity, ldl_effect, ldl_gain, learned, network,
                                          paired_gaps, peak_effect, sweep_table, targets_table)
from fernb.papers.lfer_ldl.verdicts import (architecture_words, curves_headline, curves_words, gain_words,
                                            ldl_step_summary, learned_words, smoothing_words, steps_text,
                                            sweep_headline, sweep_verdict, sweep_words, table_headline,
                                            target_verdicts, targets_words, truth_summary, truth_verdict)
