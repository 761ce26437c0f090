"""The BTFER benchmark (Ipinze Tutuianu, Liu et al.): one protocol over the zoo (§III), a balanced cross-domain
test set (§II), Experiments 1-6 (§IV) and the edge deployment (§V-A). The architectures are in
:mod:`fernb.models.btfer`.

* :mod:`.tables`: the printed Tables 2, 3 and 6 as data;
* :mod:`.recipes`: what each profile trains (one column per profile);
* :mod:`.spec`: the benchmark specification, its rows, plan, run and resumption, the training-label qualities;
* :mod:`.testset`: the balanced test set and the score on it;
* :mod:`.drivers`: the chapter's drivers over ``ch`` (specifications from the recipes, run, deployment);
* :mod:`.experiments`, :mod:`.figures`, :mod:`.verdicts`: the summaries, figures and verdicts the chapter shows.

Chapter 08 reads ``from fernb.papers import btfer`` and calls the names below.
"""

from fernb.papers.btfer.drivers import (OURS_COLUMNS, Benchmark, best_runs, best_table, deploy, plan_all,
                                          plan_words, rerun_main, resolution_table, row_counts, runs_where,
                                          skipped, specs, state_counts, table_runs, test_set, train_sets, zoo)
from fernb.papers.btfer.drivers import benchmark
from fernb.papers.btfer.experiments import (beside_paper, best_per_resolution, class_weights_beside_paper,
                                            first_seed_evaluations, label_noise_table, label_quality,
                                            params_accuracy, resolution_gap, side_by_side, starts_table,
                                            top_models, weighting_gap)
from fernb.papers.btfer.figures import label_quality_figure
from fernb.papers.btfer.recipes import LABELS, MAIN, PRETRAINED, PROTOCOL, RECIPES, RESOLUTION, TEST
from fernb.papers.btfer.spec import (LABEL_QUALITIES, STARTS, BenchmarkResult, BenchmarkSpec, Row,
                                     combine, label_noise, parse_train_set, plan, run_benchmark, start_weights,
                                     training_labels)
from fernb.papers.btfer.tables import PAPER_DATASETS, PAPER_TABLE6, paper_dataset, paper_tables
from fernb.papers.btfer.testset import TestSet, balanced_test_set, score_on_balanced_test
from fernb.papers.btfer.verdicts import (Verdict, experiment_verdicts, headline_runs, headlines, map_verdicts,
                                         resolution_words, size_words, table2_headline, table6_headline,
                                         table_caption, verdicts_frame, verdicts_markdown,
                                         weighting_words)
