from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backend.api.views import auth, customers, inbox_actions, openings, policies, processes, tasks

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("auth/token/", auth.TokenObtainApi.as_view(), name="api-token"),
    path("account-openings/", openings.AccountOpeningCreateApi.as_view(), name="api-openings"),
    path("account-openings/<int:opening_id>/", openings.AccountOpeningDetailApi.as_view(), name="api-opening"),
    path("tasks/", tasks.TaskListApi.as_view(), name="api-tasks"),
    path("tasks/bulk/", inbox_actions.TaskBulkApi.as_view(), name="api-tasks-bulk"),
    path("tasks/<int:task_id>/", tasks.TaskDetailApi.as_view(), name="api-task"),
    path("tasks/<int:task_id>/comments/", inbox_actions.TaskCommentsApi.as_view(), name="api-task-comments"),
    path("tasks/<int:task_id>/timeline/", inbox_actions.TaskTimelineApi.as_view(), name="api-task-timeline"),
    path("tasks/<int:task_id>/claim/", tasks.TaskClaimApi.as_view(), name="api-task-claim"),
    path("tasks/<int:task_id>/unclaim/", tasks.TaskUnclaimApi.as_view(), name="api-task-unclaim"),
    path("tasks/<int:task_id>/complete/", tasks.TaskCompleteApi.as_view(), name="api-task-complete"),
    path("tasks/<int:task_id>/transfer/", inbox_actions.TaskTransferApi.as_view(), name="api-task-transfer"),
    path("tasks/<int:task_id>/remind/", inbox_actions.TaskRemindApi.as_view(), name="api-task-remind"),
    path("tasks/<int:task_id>/copy/", inbox_actions.TaskCopyApi.as_view(), name="api-task-copy"),
    path("my-cases/", inbox_actions.MyCasesApi.as_view(), name="api-my-cases"),
    path("substitutions/", inbox_actions.SubstitutionListCreateApi.as_view(), name="api-substitutions"),
    path("substitutions/<int:substitution_id>/cancel/", inbox_actions.SubstitutionCancelApi.as_view(), name="api-substitution-cancel"),
    path("notifications/", inbox_actions.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/read/", inbox_actions.NotificationReadApi.as_view(), name="api-notifications-read-all"),
    path("notifications/<int:notification_id>/read/", inbox_actions.NotificationReadApi.as_view(), name="api-notification-read"),
    path("customers/", customers.CustomerListApi.as_view(), name="api-customers"),
    path("customers/<int:customer_id>/", customers.CustomerDetailApi.as_view(), name="api-customer"),
    path("customers/<int:customer_id>/collection-card.pdf", customers.CustomerCollectionCardApi.as_view(), name="api-customer-card"),
    path("process-definitions/", processes.ProcessDefinitionListCreateApi.as_view(), name="api-process-definitions"),
    path("process-instances/", processes.ProcessInstanceCreateApi.as_view(), name="api-process-instances"),
    path("policies/", policies.PolicyListCreateApi.as_view(), name="api-policies"),
    path("policies/<int:policy_id>/", policies.PolicyDetailApi.as_view(), name="api-policy"),
    path("policies/<int:policy_id>/endorsements/", policies.EndorsementCreateApi.as_view(), name="api-policy-endorsements"),
    path("endorsements/<int:endorsement_id>/", policies.EndorsementDetailApi.as_view(), name="api-endorsement"),
    path("endorsements/<int:endorsement_id>/form.pdf", policies.EndorsementFormPdfApi.as_view(), name="api-endorsement-form"),
]
