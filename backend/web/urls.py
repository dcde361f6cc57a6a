from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from backend.web.views import customers, notifications, openings, policies, processes, tasks, verify

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", RedirectView.as_view(pattern_name="inbox", permanent=False), name="home"),
    path("inbox/", tasks.inbox, name="inbox"),
    path("tasks/<int:task_id>/", tasks.task_detail, name="task-detail"),
    path("tasks/<int:task_id>/claim/", tasks.claim, name="task-claim"),
    path("tasks/<int:task_id>/unclaim/", tasks.unclaim, name="task-unclaim"),
    path("tasks/<int:task_id>/transfer/", tasks.transfer, name="task-transfer"),
    path("tasks/<int:task_id>/remind/", tasks.remind, name="task-remind"),
    path("notifications/", notifications.notification_list_page, name="notifications"),
    path("notifications/read/", notifications.notifications_read_all, name="notifications-read"),
    path("notifications/<int:notification_id>/read/", notifications.notification_read, name="notification-read"),
    path("customers/", customers.customer_list_page, name="customer-list"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer-detail"),
    path("customers/<int:customer_id>/collection-card.pdf", customers.customer_card, name="customer-card"),
    path("openings/new/", openings.opening_new, name="opening-new"),
    path("processes/", processes.process_list, name="processes"),
    path("processes/upload/", processes.process_upload, name="process-upload"),
    path("processes/test-instance/", processes.process_test_start, name="process-test-start"),
    path("verify/<str:document_id>", verify.verify_document, name="verify"),
    path("policies/", policies.policy_list_page, name="policy-list"),
    path("policies/<int:policy_id>/", policies.policy_detail, name="policy-detail"),
    path("policies/<int:policy_id>/endorse/", policies.endorsement_new, name="endorsement-new"),
    path("endorsements/<int:endorsement_id>/form.pdf", policies.endorsement_form_pdf, name="endorsement-form"),
]
